// sign.js - the Authorization header AWS's JS signer (@smithy/signature-v4
// with @aws-crypto/sha256-js) gives each request of a cases file, for
// tests/integration/test_aws_sigv4_js to compare with tscache's.
//
//   node sign.js cases.json    prints {"case name": "AWS4-HMAC-SHA256 ...", ...}
//
// Each case: time (epoch s), region, service, token (optional), method,
// path and query as sent, headers [[name, value]...], body. Credentials
// are AWS's documented example key. The signer is told not to add
// x-amz-content-sha256 (applyChecksum: false), as tscache sends none.
"use strict";
const fs = require("fs");
const { SignatureV4 } = require("@smithy/signature-v4");
const { Sha256 } = require("@aws-crypto/sha256-js");

// The query as sent, into the object the signer takes (repeated names
// become arrays).
function parseQuery(text) {
  const query = {};
  for (const part of (text || "").split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1));
    if (key in query) query[key] = [].concat(query[key], value);
    else query[key] = value;
  }
  return query;
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const out = {};
  for (const c of cases) {
    const signer = new SignatureV4({
      credentials: {
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        sessionToken: c.token,
      },
      region: c.region,
      service: c.service,
      sha256: Sha256,
      applyChecksum: false,
      uriEscapePath: true,
    });
    const headers = {};
    for (const [name, value] of c.headers) headers[name] = value;
    const host = c.headers.find(([n]) => n.toLowerCase() === "host")[1];
    const signed = await signer.sign(
      {
        method: c.method,
        protocol: "https:",
        hostname: host.split(":")[0],
        path: c.path,
        query: parseQuery(c.query),
        headers,
        body: c.body,
      },
      { signingDate: new Date(c.time * 1000) }
    );
    out[c.name] = signed.headers.authorization;
  }
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
