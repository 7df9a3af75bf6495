// validate.js - checks an OpenAPI document with swagger-parser: the
// document against the OpenAPI schema of its version, then the rules a
// schema cannot say (every $ref resolves, path parameters declared,
// operationIds unique). Prints "ok TITLE VERSION" and exits 0, or prints
// the error and exits 1. Test tooling of tests/e2e/test_openapi.
//
//   node tests/node/openapi/validate.js docs/openapi.yaml

'use strict';

const SwaggerParser = require('@apidevtools/swagger-parser');

async function main() {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: validate.js FILE');
    process.exit(2);
  }
  try {
    const api = await SwaggerParser.validate(file);
    console.log('ok ' + api.info.title + ' ' + api.openapi);
  } catch (err) {
    console.log('invalid: ' + err.message);
    process.exit(1);
  }
}

main();
