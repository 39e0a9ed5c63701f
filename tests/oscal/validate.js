// validate.js SCHEMA DOC...: validate JSON documents against a JSON Schema
// (draft-07, as NIST publishes OSCAL's) with ajv and ajv-formats, installed
// by `make deps` under $KCUSTODY_CACHE/node (tests/oscal/install.sh).
// Exit 0 when every document is valid, 1 with ajv's errors when one is not,
// 2 on usage or an unreadable file.
'use strict';
const fs = require('fs');
const path = require('path');
const cache = process.env.KCUSTODY_CACHE || '/var/cache/kcustody';
const mods = path.join(cache, 'node', 'node_modules');
let Ajv, addFormats;
try {
	Ajv = require(path.join(mods, 'ajv'));
	addFormats = require(path.join(mods, 'ajv-formats'));
} catch (e) {
	console.error(`validate.js: ajv is not installed under ${mods}: run make deps`);
	process.exit(2);
}
const args = process.argv.slice(2);
if (args.length < 2) {
	console.error('usage: node validate.js SCHEMA.json DOC.json...');
	process.exit(2);
}
const read = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
// strict: false - OSCAL's schemas use "$comment"-style keywords ajv's strict
// mode rejects; allErrors: report every violation, not only the first.
const ajv = new (Ajv.default || Ajv)({ strict: false, allErrors: true });
(addFormats.default || addFormats)(ajv);
const validate = ajv.compile(read(args[0]));
let bad = 0;
for (const f of args.slice(1)) {
	if (validate(read(f))) {
		console.log(`${f}: valid`);
	} else {
		bad++;
		console.log(`${f}: INVALID`);
		for (const e of validate.errors.slice(0, 20))
			console.log(`  ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
	}
}
process.exit(bad ? 1 : 0);
