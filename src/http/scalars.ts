import { GraphQLError, GraphQLScalarType, Kind } from "graphql";
import { GraphQLJSON } from "graphql-scalars";
import { isCalendarDate } from "../china-date.ts";

function parseDate(value: unknown): string {
  if (!isCalendarDate(value)) {
    throw new GraphQLError("Date must be a calendar date written YYYY-MM-DD", {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  return value;
}

/** A calendar date, YYYY-MM-DD; values are plain strings inside the hub. */
export const DateScalar = new GraphQLScalarType<string, string>({
  name: "Date",
  description: "A calendar date, written YYYY-MM-DD (card validity dates are dates in China).",
  serialize: (value) => parseDate(value),
  parseValue: (value) => parseDate(value),
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : null),
});

/** An instant, ISO-8601 in UTC; values are ISO strings inside the hub. */
export const DateTimeScalar = new GraphQLScalarType<string, string>({
  name: "DateTime",
  description: "An instant, ISO-8601 in UTC, for example 2024-05-01T08:30:00.000Z.",
  serialize: (value) => {
    if (typeof value === "string") return value;
    if (value instanceof Date) return value.toISOString();
    throw new GraphQLError("DateTime cannot represent this value");
  },
  parseValue: (value) => {
    if (typeof value !== "string" || Number.isNaN(Date.parse(value))) {
      throw new GraphQLError("DateTime must be an ISO-8601 instant", { extensions: { code: "BAD_USER_INPUT" } });
    }
    return new Date(value).toISOString();
  },
});

export const JSONScalar = GraphQLJSON;
