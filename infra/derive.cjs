// osls's `file` variable source require()s .js and .cjs files only: this hands it infra/derive.ts, which
// Node 24 loads with its types stripped. serverless.yml: `${file(infra/derive.cjs):derived}`.
module.exports = require('./derive.ts');
