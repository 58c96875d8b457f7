// The notice: English and French (Accept-Language and the switch), an earlier version
// and what changed, and the notice on a phone.
import fs from 'node:fs';
import path from 'node:path';

export default async function notice(ctx) {
  const { assert, tenant } = ctx;
  // A second version, in force since June, that shortens one retention period.
  const yaml = fs
    .readFileSync(path.join(ctx.root, 'examples/research-operator/policy.yaml'), 'utf8')
    .replace('effective_date: 2026-01-15', 'effective_date: 2026-06-01')
    .replace(/keep: 90d(\s+from: collected\s+reason: Web and survey logs)/, 'keep: 60d$1');
  await ctx.api('PUT', `/v1/tenants/${tenant}/policy`, yaml, {
    key: ctx.adminKey,
    headers: { 'content-type': 'application/yaml' },
  });

  const en = await ctx.newPage({ locale: 'en-CA', extraHTTPHeaders: { 'accept-language': 'en-CA,en;q=0.9' } });
  const res = await ctx.visit(en, `/privacy/${tenant}`);
  assert.match(res.headers()['content-security-policy'], /default-src 'none'/);
  assert.equal(await en.getAttribute('html', 'lang'), 'en');
  const status = await en.locator('p.status').innerText();
  assert.match(status, /2/, `the version in force is named: ${status}`);
  const versions = en.locator('ol.versions > li');
  assert.equal(await versions.count(), 2);
  await en.locator('ol.versions summary').first().click();
  const changed = await en.locator('ol.versions details').first().innerText();
  assert.match(changed, /60d|60 days|ip_address|retention/i, `what changed: ${changed}`);
  await ctx.screenshot(en, 'en');
  await ctx.screenshot(en, 'en-top', { fullPage: false });

  // The earlier version, by its link; it says so and links to the one in force.
  await en.locator('ol.versions a').first().click();
  await en.waitForLoadState();
  assert.match(en.url(), /version=1/);
  await ctx.axe(en);
  const old = await en.locator('p.status').innerText();
  assert.ok(await en.locator('p.status strong').count(), `an earlier version says so: ${old}`);
  await ctx.screenshot(en, 'earlier-version');
  await en.locator('p.status a').click();
  await en.waitForLoadState();
  assert.doesNotMatch(en.url(), /version=/);

  // French from Accept-Language.
  const fr = await ctx.newPage({ locale: 'fr-CA', extraHTTPHeaders: { 'accept-language': 'fr-CA,fr;q=0.9,en;q=0.5' } });
  await ctx.visit(fr, `/privacy/${tenant}`);
  assert.equal(await fr.getAttribute('html', 'lang'), 'fr');
  assert.match(await fr.locator('#versions').innerText(), /version/i);
  await ctx.screenshot(fr, 'fr');

  // The switch, from English to French and back.
  await en.locator('footer a[hreflang="fr"]').click();
  await en.waitForLoadState();
  assert.equal(await en.getAttribute('html', 'lang'), 'fr');
  await ctx.axe(en);
  await en.locator('footer a[hreflang="en"]').click();
  await en.waitForLoadState();
  assert.equal(await en.getAttribute('html', 'lang'), 'en');

  // A phone.
  const phone = await ctx.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await ctx.visit(phone, `/privacy/${tenant}`);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await ctx.screenshot(phone, 'phone');
  await ctx.screenshot(phone, 'phone-top', { fullPage: false });
}
