// Compile JSON Schemas with ajv in strict mode (draft 2020-12) and validate instances.
// Input on stdin: {"schemas": {name: schema}, "instances": [{"id": str, "schema": name, "data": any}]}
// Output on stdout: {"versions": {...}, "compile": {name: null | error}, "results": [{"id", "schema", "valid", "errors"}]}
// Run by schemas/ajv_runner.py with NODE_PATH pointing at the cached node_modules.
"use strict";
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const compiled = {};
const out = {
  versions: { ajv: require("ajv/package.json").version, "ajv-formats": require("ajv-formats/package.json").version },
  compile: {},
  results: [],
};
for (const [name, schema] of Object.entries(input.schemas)) {
  // A fresh instance per schema: the schemas share no $refs, and one's $id must not clash.
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv); // full mode: date, date-time and uuid are checked, not just named
  try {
    compiled[name] = ajv.compile(schema);
    out.compile[name] = null;
  } catch (error) {
    out.compile[name] = String(error.message || error);
  }
}
for (const item of input.instances) {
  const validate = compiled[item.schema];
  if (!validate) {
    out.results.push({ id: item.id, schema: item.schema, valid: null, errors: ["schema did not compile"] });
    continue;
  }
  const valid = validate(item.data);
  const errors = valid ? [] : validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`);
  out.results.push({ id: item.id, schema: item.schema, valid, errors });
}
process.stdout.write(JSON.stringify(out));
