import "reflect-metadata";
import fs from "node:fs";
import { emittedSchemaText, SCHEMA_FILE } from "../src/api/schema-file.ts";

// Writes schema/schema.graphql from the resolver classes; a test fails when the committed file drifts.
fs.writeFileSync(SCHEMA_FILE, emittedSchemaText());
console.log(`wrote ${SCHEMA_FILE}`);
