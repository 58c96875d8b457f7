// The console's "Other systems" section (issue 11): a request's connector jobs on the
// organisation's own database, a failed one with its error and the retry button, and
// the job done after the retry. A tenant of its own (the shop policy), so the other
// scenarios' requests wait on no connector; its SQLite database is made with the
// sqlite3 command outside the data directory (no connection may open a file in it).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SHOP = 'browser-shop';
const EMAIL = 'connectors.dee@example.org';
const DATASET = `dataset:
  - fides_key: members
    name: Members
    collections:
      - name: customers
        fields:
          - name: id
            data_categories: [user.unique_id]
            fides_meta:
              primary_key: true
          - name: email
            data_categories: [user.contact.email]
            fides_meta:
              identity: email
              data_type: string
          - name: name
            data_categories: [user.name]
`;

async function waitForJob(ctx, key, request, state) {
  const end = Date.now() + 20_000;
  for (;;) {
    const jobs = (await ctx.api('GET', `/v1/tenants/${SHOP}/requests/${request}/connector-jobs`, undefined, { key })).json;
    if (jobs.length && jobs.every((j) => j.state === state)) return jobs;
    if (Date.now() > end) throw new Error(`the job is not ${state}: ${JSON.stringify(jobs)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export default async function consoleConnectors(ctx) {
  const { assert } = ctx;
  const admin = { key: ctx.adminKey };
  await ctx.api('POST', '/v1/tenants', { id: SHOP, name: 'Browser Shop', role: 'controller' }, admin);
  const policy = fs.readFileSync(path.join(ctx.root, 'examples/shop/policy.yaml'), 'utf8');
  await ctx.api('PUT', `/v1/tenants/${SHOP}/policy`, policy, { ...admin, headers: { 'content-type': 'application/yaml' } });
  const key = (await ctx.api('POST', `/v1/tenants/${SHOP}/keys`, { role: 'operator' }, admin)).json.key;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vow-browser-shop-'));
  const db = path.join(dir, 'shop.db');
  const sql = (s) => execFileSync('sqlite3', [db, s]);
  try {
    sql(`CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
         INSERT INTO customers (email, name) VALUES ('${EMAIL}', 'Dee'), ('connectors.eve@example.org', 'Eve');`);
    await ctx.api('PUT', `/v1/tenants/${SHOP}/connections/shop-db`, { url: `sqlite:${db}` }, { key });
    await ctx.api('POST', `/v1/tenants/${SHOP}/datasets?connection=shop-db`, DATASET, {
      key,
      headers: { 'content-type': 'application/yaml' },
      expect: 201,
    });
    await ctx.api('POST', `/v1/tenants/${SHOP}/subjects`, {
      identifiers: { email: EMAIL },
      fields: [{ category: 'user.contact.email', value: EMAIL, purposes: ['orders'], source: 'checkout' }],
    }, { key });
    // The table is away while the request is fulfilled: its job fails.
    sql('ALTER TABLE customers RENAME TO customers_away');
    const request = (
      await ctx.api('POST', `/v1/tenants/${SHOP}/requests`, { type: 'access', channel: 'web', identifiers: { email: EMAIL } }, { key })
    ).json;
    await ctx.api('POST', `/v1/tenants/${SHOP}/requests/${request.id}/fulfil`, {}, { key });
    await waitForJob(ctx, key, request.id, 'failed');

    const page = await ctx.newPage();
    await ctx.visit(page, '/console');
    await page.getByLabel('API key').fill(key);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
    await ctx.visit(page, `/console/t/${SHOP}/requests/${request.id}`);
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Other systems' }) });
    const row = () => section.locator('tbody tr').first().locator('td').allInnerTexts();
    const failed = await row();
    assert.deepEqual(failed.slice(0, 5), ['members', 'shop-db', 'Access', 'Failed', '1']);
    assert.match(failed[6], /no longer matches its database/);
    await ctx.screenshot(page, 'failed');
    await ctx.visit(page, `/console/t/${SHOP}/requests/${request.id}?lang=fr`);
    assert.match(await page.locator('main').innerText(), /Autres systèmes[\s\S]*Échouée/);
    await ctx.screenshot(page, 'failed-fr');

    // Fixed, then retried with the button; the server's runner takes the job up.
    sql('ALTER TABLE customers_away RENAME TO customers');
    await ctx.visit(page, `/console/t/${SHOP}/requests/${request.id}?lang=en`);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Retry the failed jobs' }).click()]);
    assert.match(await page.locator('[role=status]').innerText(), /put back to run/);
    await ctx.axe(page);
    await waitForJob(ctx, key, request.id, 'done');
    await ctx.visit(page, `/console/t/${SHOP}/requests/${request.id}`);
    const done = await row();
    assert.deepEqual(done.slice(0, 5), ['members', 'shop-db', 'Access', 'Done', '2']);
    assert.match(done[5], /customers 1/);
    assert.equal(await page.getByRole('button', { name: 'Retry the failed jobs' }).count(), 0);
    await ctx.screenshot(page, 'done');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
