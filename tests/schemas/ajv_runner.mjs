// Validate messages with ajv (draft 2020-12, formats asserted), as docs/contract.md tells
// JavaScript partners to. Reads {"schemas": {name: schema}, "cases": [{schema, message}]}
// on stdin; writes one verdict per case: {"valid": bool, "errors": [message, ...]}.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const ajv = new Ajv2020({ allErrors: true, strict: false }); // strict: false ignores `discriminator`
addFormats(ajv);
const compiled = {};
for (const [name, schema] of Object.entries(input.schemas)) compiled[name] = ajv.compile(schema);

const verdicts = input.cases.map(({ schema, message }) => {
  const validate = compiled[schema];
  const valid = validate(message);
  return { valid, errors: valid ? [] : validate.errors.map((e) => `${e.instancePath} ${e.message}`) };
});
process.stdout.write(JSON.stringify(verdicts));
