// The dashboard's only way to the hub: POST /graphql with the key from this tab's session.

const KEY_STORAGE = "fpr-hub.dashboard.key";

export function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

/** A failure to show to the user: `code` is the hub's error code (or NETWORK / BAD_RESPONSE). */
export class HubRequestError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }

  /** The key itself is the problem: sign out and ask for another. */
  get isAuth() {
    return this.code === "UNAUTHENTICATED" || this.code === "FORBIDDEN";
  }
}

/** Readable text for a GraphQL error from the hub; never the raw JSON. */
function explain(error) {
  const code = error?.extensions?.code ?? "UNKNOWN";
  const message = typeof error?.message === "string" ? error.message : "";
  switch (code) {
    case "UNAUTHENTICATED":
      return "This key was not accepted: it is unknown or has been revoked. Check the key and sign in again.";
    case "FORBIDDEN": {
      const role = /^a (\w+) key/.exec(message)?.[1];
      return `Not allowed: ${role ? `a ${role} key` : "this key"} cannot see this. The dashboard needs an ADMIN or VIEWER key.`;
    }
    case "RATE_LIMITED":
      return `Too many requests with this key: ${message || "wait a minute and try again"}.`;
    case "INTERNAL_SERVER_ERROR":
      return "The hub could not answer right now. Try again in a moment.";
    default:
      return message ? `The hub refused the request: ${message}` : `The hub refused the request (${code}).`;
  }
}

async function readAnswer(response) {
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("json")) {
    throw new HubRequestError("BAD_RESPONSE", `The hub answered with HTTP ${response.status} instead of data. Try again in a moment.`);
  }
  try {
    return await response.json();
  } catch {
    throw new HubRequestError("BAD_RESPONSE", `The hub's answer (HTTP ${response.status}) could not be read. Try again in a moment.`);
  }
}

/** Runs one GraphQL operation; resolves with `data`, rejects with a HubRequestError. */
export async function gql(query, variables = {}) {
  const key = storedKey();
  if (!key) throw new HubRequestError("UNAUTHENTICATED", "Sign in with an API key first.");
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new HubRequestError("NETWORK", "Could not reach the hub (network error). Check the connection and try again.");
  }
  const answer = await readAnswer(response);
  const first = Array.isArray(answer?.errors) ? answer.errors[0] : null;
  if (first) throw new HubRequestError(first.extensions?.code ?? "UNKNOWN", explain(first));
  if (!answer?.data) throw new HubRequestError("BAD_RESPONSE", `The hub answered HTTP ${response.status} without data. Try again in a moment.`);
  return answer.data;
}
