// The rollout dashboard: sign in with a key, load every figure in one GraphQL request, draw.
import { chartsAvailable, destroyCharts, drawCoverage, drawTimeline } from "./chart-views.js";
import { checkNumber, clearCheck } from "./check-view.js";
import { byTestId } from "./dom.js";
import { forgetKey, gql, storedKey, storeKey } from "./hub-api.js";
import { renderCoverageTable, renderHeadline, renderHealth, renderNationalities, renderPartners, renderTimelineTable } from "./tables.js";

const DASHBOARD = `query Dashboard {
  industry: rolloutCoverage(groupBy: INDUSTRY) { key label partners declared observed verified ratio }
  province: rolloutCoverage(groupBy: PROVINCE) { key label partners declared observed verified ratio }
  total: migrationProgress(groupBy: TOTAL) { activeHolders onV2023 ratio }
  nationality: migrationProgress(groupBy: NATIONALITY) { key label activeHolders onV2023 ratio }
  migrationTimeline(weeks: 52) { periodStart activeHolders onV2023 }
  deliveryHealth { subscriptionId partnerName status delivered failed successRatio p50LatencyMs p99LatencyMs breaker parkedUntil }
  partners { id name industry province { code name } adaptation { level declared } }
}`;

const dashboard = byTestId("dashboard");
const signin = byTestId("signin");
const loadError = byTestId("load-error");
const signinError = byTestId("signin-error");
let loading = 0;

function showMessage(node, text) {
  node.textContent = text ?? "";
  node.hidden = !text;
}

function showSignIn(message) {
  destroyCharts();
  clearCheck();
  dashboard.hidden = true;
  dashboard.dataset.state = "signed-out";
  byTestId("session").hidden = true;
  signin.hidden = false;
  showMessage(signinError, message);
  byTestId("key-input").focus();
}

function signOut(message) {
  loading += 1;
  forgetKey();
  showSignIn(message);
}

function render(data) {
  renderHeadline(data.total, data.industry, data.partners);
  renderCoverageTable(byTestId("coverage-industry-table"), data.industry, "coverage-industry-row", "Industry");
  renderCoverageTable(byTestId("coverage-province-table"), data.province, "coverage-province-row", "Province");
  renderTimelineTable(data.migrationTimeline);
  renderNationalities(data.nationality);
  renderHealth(data.deliveryHealth);
  renderPartners(data.partners);
  if (chartsAvailable()) {
    drawCoverage("industry", data.industry);
    drawCoverage("province", data.province);
    drawTimeline(data.migrationTimeline);
  } else {
    showMessage(loadError, "Charts could not be loaded; the figures are in the tables under each chart.");
  }
}

async function load() {
  const request = ++loading;
  signin.hidden = true;
  dashboard.hidden = false;
  byTestId("session").hidden = false;
  dashboard.dataset.state = "loading";
  dashboard.setAttribute("aria-busy", "true");
  try {
    const data = await gql(DASHBOARD);
    if (request !== loading) return;
    showMessage(loadError, null);
    render(data);
    dashboard.dataset.state = "ready";
    byTestId("updated").textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}`;
  } catch (error) {
    if (request !== loading) return;
    if (error.isAuth) signOut(error.message);
    else {
      showMessage(loadError, error.message);
      dashboard.dataset.state = "error";
    }
  } finally {
    dashboard.removeAttribute("aria-busy");
  }
}

byTestId("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = byTestId("key-input");
  const key = input.value.trim();
  input.value = "";
  if (!key) {
    showMessage(signinError, "Enter an API key.");
    return;
  }
  showMessage(signinError, null);
  storeKey(key);
  load();
});

byTestId("check-form").addEventListener("submit", (event) => {
  event.preventDefault();
  checkNumber(byTestId("check-input").value.trim(), (error) => signOut(error.message));
});

document.querySelector('[data-action="refresh"]').addEventListener("click", () => load());
byTestId("sign-out").addEventListener("click", () => signOut(null));

if (storedKey()) load();
else showSignIn(null);
