#!/usr/bin/env node
// Vow's pages in a real browser: Debian's Chromium driven by playwright-core, with
// axe-core checking every page visited. See README.md in this directory.
//
//   node ci/browser/run.mjs --vow target/debug/vow [--only NAME]... [--keep]
//
// Starts its own `vow serve` on a free 127.0.0.1 port with a fresh data directory
// (mail written as .eml files: the outbox), makes the example tenant with the CLI, and
// runs every ci/browser/scenarios/*.mjs (each default-exports `async (ctx) => {}`) as a
// node:test test. Screenshots go to target/browser-screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SHOTS = path.join(ROOT, 'target/browser-screenshots');
const CHROMIUM = process.env.VOW_CHROMIUM || '/usr/bin/chromium';
// Without the background-networking flags Chromium stalls on a closed network.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const TENANT = 'prairie-research';

function parseArgs(argv) {
  const out = { vow: path.join(ROOT, 'target/debug/vow'), only: [], keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--vow') out.vow = path.resolve(argv[++i]);
    else if (a === '--only') out.only.push(argv[++i]);
    else if (a === '--keep') out.keep = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node ci/browser/run.mjs --vow target/debug/vow [--only NAME]... [--keep]');
      process.exit(0);
    } else if (!a.startsWith('--test')) {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- mail: the .eml files vow writes to mail_dir -----------------------------------

function decodeQuotedPrintable(s) {
  const bytes = [];
  const soft = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeWords(value) {
  // RFC 2047 encoded words in headers (=?utf-8?q?…?= / =?utf-8?b?…?=).
  return value.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, _cs, enc, text) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeQuotedPrintable(text.replace(/_/g, ' ')),
  );
}

function splitHeaders(raw) {
  const cut = raw.search(/\r?\n\r?\n/);
  const head = cut < 0 ? raw : raw.slice(0, cut);
  const body = cut < 0 ? '' : raw.slice(cut).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  return { headers, body };
}

function decodePart(headers, body) {
  const enc = (headers['content-transfer-encoding'] || '').toLowerCase();
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body);
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** Parses one .eml: {file, headers, to, subject, text, html}. */
export function parseEml(raw, file) {
  const { headers, body } = splitHeaders(raw);
  const mail = { file, headers, to: headers.to || '', subject: headers.subject || '', text: '', html: '' };
  const walk = (hdrs, content) => {
    const type = hdrs['content-type'] || 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type);
    if (/^multipart\//i.test(type) && boundary) {
      for (const part of content.split(`--${boundary[1]}`).slice(1)) {
        if (part.startsWith('--')) break;
        const p = splitHeaders(part.replace(/^\r?\n/, ''));
        walk(p.headers, p.body);
      }
    } else if (/^text\/html/i.test(type)) {
      mail.html += decodePart(hdrs, content);
    } else if (/^text\//i.test(type)) {
      mail.text += decodePart(hdrs, content);
    }
  };
  walk(headers, body);
  return mail;
}

function readMails(dir, address) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  const visit = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.name.endsWith('.eml')) out.push({ p, mtime: fs.statSync(p).mtimeMs });
    }
  };
  visit(dir);
  return out
    .map(({ p, mtime }) => ({ ...parseEml(fs.readFileSync(p, 'utf8'), p), mtime }))
    .filter((m) => !address || m.to.toLowerCase().includes(address.toLowerCase()))
    .sort((a, b) => b.mtime - a.mtime);
}

// --- the server ---------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
const state = { server: null, data: null, browser: null, log: '' };

function vowCli(args, env) {
  return execFileSync(opts.vow, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function startServer() {
  assert.ok(fs.existsSync(opts.vow), `no vow binary at ${opts.vow} (cargo build -p vow --bin vow)`);
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'vow-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const mailDir = path.join(data, 'mail');
  const env = {
    ...process.env,
    VOW_DATA: data,
    VOW_MAIL_DIR: mailDir,
    VOW_PUBLIC_URL: base,
    VOW_MAIL_FROM: 'Prairie Privacy <privacy@prairie-insights.example>',
  };
  for (const k of ['VOW_CONFIG', 'VOW_DATABASE_URL', 'VOW_SMTP_HOST']) delete env[k];
  vowCli(
    ['tenant', 'create', '--data', data, '--id', TENANT, '--name', 'Prairie Insights Research Inc.',
      '--role', 'controller', '--policy', path.join(ROOT, 'examples/research-operator/policy.yaml')],
    env,
  );
  const key = (...a) => JSON.parse(vowCli(['key', 'create', '--data', data, '--label', 'browser-tests', '--output', 'json', ...a], env)).key;
  const adminKey = key('--role', 'admin');
  const operatorKey = key('--tenant', TENANT, '--role', 'operator');

  const server = spawn(opts.vow, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => (state.log += d));
  server.stderr.on('data', (d) => (state.log += d));
  state.server = server;
  state.data = data;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/livez`)).ok) break;
    } catch {
      /* not yet */
    }
    if (server.exitCode !== null) break;
    await sleep(100);
  }
  const live = await fetch(`${base}/livez`).then((r) => r.ok, () => false);
  assert.ok(live, `vow serve did not start:\n${state.log}`);
  return { base, port, data, mailDir, adminKey, operatorKey, env };
}

/** The context every scenario gets. */
function makeContext(srv, browser, scenario) {
  const pages = [];
  const ctx = {
    ...srv,
    tenant: TENANT,
    browser,
    root: ROOT,
    assert,
    /** A fresh browser context (own cookies) and page. `options` go to newContext. */
    async newPage(options = {}) {
      const context = await browser.newContext({ bypassCSP: true, ...options });
      pages.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      return page;
    },
    /** Calls the HTTP API: api(method, path, body?, {key, headers, raw}). JSON in and out. */
    async api(method, p, body, { key = srv.operatorKey, headers = {}, expect } = {}) {
      const h = { authorization: `Bearer ${key}`, ...headers };
      let payload;
      if (body !== undefined) {
        if (typeof body === 'string' || body instanceof Uint8Array) payload = body;
        else {
          payload = JSON.stringify(body);
          h['content-type'] ??= 'application/json';
        }
      }
      const res = await fetch(srv.base + p, { method, headers: h, body: payload });
      const text = await res.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      const want = expect ?? [200, 201, 204];
      assert.ok(
        [].concat(want).includes(res.status),
        `${method} ${p}: ${res.status} ${text.slice(0, 400)}`,
      );
      return { status: res.status, headers: res.headers, json, text };
    },
    /** The mails to `address` (newest first), parsed: {to, subject, headers, text, html}. */
    mails(address) {
      return readMails(srv.mailDir, address);
    },
    /** Waits until a mail to `address` matches `pred`; returns it. */
    async waitForMail(address, pred = () => true, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = readMails(srv.mailDir, address).find(pred);
        if (m) return m;
        if (Date.now() > end) throw new Error(`no mail to ${address} matched within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    /** Saves a PNG as target/browser-screenshots/<scenario>-<name>.png: the whole page,
     * or with `{fullPage: false}` what the window shows. */
    async screenshot(page, name, { fullPage = true } = {}) {
      fs.mkdirSync(SHOTS, { recursive: true });
      const file = path.join(SHOTS, `${scenario}-${name}.png`);
      await page.screenshot({ path: file, fullPage });
      return file;
    },
    /** Runs axe-core in the page; fails on any serious or critical violation. */
    async axe(page) {
      await page.addScriptTag({ content: AXE_SOURCE });
      const result = await page.evaluate(async () => {
        // eslint-disable-next-line no-undef
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
        }));
      });
      const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(
        bad,
        [],
        `axe on ${page.url()}: ${bad.map((v) => `${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`).join('; ')}`,
      );
      return result;
    },
    /** Goes to `p` (relative to the base URL), checks the status, runs axe; returns the response. */
    async visit(page, p, { status = 200, axe = true } = {}) {
      const res = await page.goto(srv.base + p);
      assert.equal(res.status(), status, `GET ${p}`);
      if (axe) await ctx.axe(page);
      return res;
    },
    async close() {
      for (const c of pages) await c.close().catch(() => {});
    },
  };
  return ctx;
}

const AXE_SOURCE = fs.readFileSync(path.join(HERE, 'node_modules/axe-core/axe.min.js'), 'utf8');

// --- the run --------------------------------------------------------------------------

const scenarioDir = path.join(HERE, 'scenarios');
const scenarios = fs
  .readdirSync(scenarioDir)
  .filter((f) => f.endsWith('.mjs'))
  .sort()
  .map((f) => ({ name: f.replace(/\.mjs$/, ''), file: path.join(scenarioDir, f) }))
  .filter((s) => opts.only.length === 0 || opts.only.some((o) => s.name.includes(o)));
if (scenarios.length === 0) {
  console.error(`no scenario matches ${opts.only.join(', ')}`);
  process.exit(2);
}

let srv;
before(async () => {
  srv = await startServer();
  state.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
});

after(async () => {
  await state.browser?.close().catch(() => {});
  if (state.server && state.server.exitCode === null) {
    state.server.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => {
        state.server.kill('SIGKILL');
        r();
      }, 5000);
      state.server.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
  }
  if (state.data && !opts.keep) fs.rmSync(state.data, { recursive: true, force: true });
  else if (state.data) console.log(`kept data directory ${state.data}`);
});

for (const s of scenarios) {
  test(s.name, { timeout: 60_000 }, async () => {
    const mod = await import(pathToFileURL(s.file).href);
    const ctx = makeContext(srv, state.browser, s.name);
    try {
      await mod.default(ctx);
    } catch (e) {
      if (state.log) e.message += `\n--- vow serve log (last 2000 chars) ---\n${state.log.slice(-2000)}`;
      throw e;
    } finally {
      await ctx.close();
    }
  });
}
