// The exported AsyncAPI documents as an outside team's tooling reads them: parsed and validated by the official
// AsyncAPI parser (errors fail), and every message example checked against its payload and header schemas.
// node validate.mjs FILE... → one JSON line per file; exit 1 when any is invalid.
import { Parser, fromFile } from '@asyncapi/parser';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const parser = new Parser();
const where = (d) => `${d.code}: ${d.message} at ${d.path.join('.')}`;

function exampleProblems(document) {
  const problems = [];
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const message of document.allMessages()) {
    const payload = message.hasPayload() ? message.payload().json() : null;
    const headers = message.hasHeaders() ? message.headers().json() : null;
    for (const example of message.examples()) {
      for (const [part, schema, value] of [['payload', payload, example.payload()], ['headers', headers, example.headers()]]) {
        if (!schema || value === undefined) continue;
        const { $id, ...anonymous } = schema;  // the same schema is reached from several documents
        const valid = ajv.validate(anonymous, value);
        if (!valid) problems.push(`${message.id()} example ${example.name()} ${part}: ${ajv.errorsText(ajv.errors)}`);
      }
    }
  }
  return problems;
}

let failed = 0;
for (const path of process.argv.slice(2)) {
  const { document, diagnostics } = await fromFile(parser, path).parse();
  const errors = diagnostics.filter((d) => d.severity === 0).map(where);
  const examples = document ? exampleProblems(document) : [];
  const messages = document ? document.allMessages().length : 0;
  const valid = !!document && errors.length === 0 && examples.length === 0;
  console.log(JSON.stringify({ path, valid, messages, errors, examples,
                               warnings: diagnostics.filter((d) => d.severity === 1).map(where) }));
  if (!valid) failed++;
}
process.exit(failed ? 1 : 0);
