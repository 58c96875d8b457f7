// A denial and its appeal (issue 10; RULES.md VA-02): the denial notice mailed to the
// person links to the appeal form; the person appeals in the browser; the appeal is a
// request of its own with Virginia's 60 days; its denial is final and names the
// Attorney General.
import fs from 'node:fs';
import path from 'node:path';

export default async function appeal(ctx) {
  const { assert } = ctx;
  const admin = { key: ctx.adminKey };
  // A tenant of its own that also answers people in Virginia.
  const t = 'blue-ridge';
  await ctx.api('POST', '/v1/tenants', { id: t, name: 'Blue Ridge Surveys', role: 'controller' }, admin);
  const yaml = fs
    .readFileSync(path.join(ctx.root, 'examples/research-operator/policy.yaml'), 'utf8')
    .replace('jurisdictions: [CA, CA-QC, US-CA]', 'jurisdictions: [CA, CA-QC, US-CA, US-VA]');
  await ctx.api('PUT', `/v1/tenants/${t}/policy`, yaml, {
    ...admin,
    headers: { 'content-type': 'application/yaml' },
  });
  const key = (await ctx.api('POST', `/v1/tenants/${t}/keys`, { role: 'operator' }, admin)).json.key;
  const as = { key };

  const email = 'dana.appeal@example.org';
  await ctx.api(
    'POST',
    `/v1/tenants/${t}/subjects`,
    {
      identifiers: { email },
      birth_date: '1988-03-14',
      fields: [{ category: 'user.contact.email', value: email, purposes: ['research'], source: 'signup-form' }],
      consents: [{ purpose: 'research', kind: 'express', evidence: { channel: 'web' } }],
    },
    as,
  );
  const request = (
    await ctx.api(
      'POST',
      `/v1/tenants/${t}/requests`,
      { type: 'access', channel: 'web', jurisdiction: 'US-VA', identifiers: { email }, birth_date: '1988-03-14' },
      as,
    )
  ).json;
  await ctx.api('POST', `/v1/tenants/${t}/requests/${request.id}/deny`, { reasons: [{ code: 'exempt' }] }, as);

  // The denial notice, as the person receives it, links to the appeal form.
  const denial = await ctx.waitForMail(email, (m) => /our decision/.test(m.subject));
  const link = denial.text.match(/https?:\/\/\S+\/privacy\/blue-ridge\/request\/appeal\/[A-Za-z0-9_-]+/);
  assert.ok(link, `the denial links to the appeal form:\n${denial.text}`);
  const page = await ctx.newPage();
  await ctx.visit(page, new URL(link[0]).pathname);
  await ctx.screenshot(page, 'form');
  await page.getByLabel(/Why do you disagree/).fill('The study I took part in ended last year.');
  const [answer] = await Promise.all([page.waitForNavigation(), page.locator('main form button').click()]);
  assert.equal(answer.status(), 200);
  await ctx.axe(page);
  await ctx.screenshot(page, 'filed');

  // The appeal is a request of its own: web channel, Virginia's 60 days, and the
  // identity check of the denied request carries over.
  const original = (await ctx.api('GET', `/v1/tenants/${t}/requests/${request.id}`, undefined, as)).json;
  assert.ok(original.appealed_by, 'the denied request points at its appeal');
  const appeal = (await ctx.api('GET', `/v1/tenants/${t}/requests/${original.appealed_by}`, undefined, as)).json;
  assert.equal(appeal.appeal_of, request.id);
  assert.equal(appeal.channel, 'web');
  assert.equal(appeal.due.binding, 'US-VA');
  assert.equal(appeal.state, 'verified');
  const days = (Date.parse(appeal.due.response) - Date.parse(appeal.received_at)) / 86_400_000;
  assert.ok(days >= 60 && days < 61, `60 days to decide, not ${days}`);
  await ctx.waitForMail(email, (m) => /received your appeal/.test(m.subject));

  // Denied again: final, and the notice names the regulator, with no second appeal.
  await ctx.api('POST', `/v1/tenants/${t}/requests/${appeal.id}/deny`, { reasons: [{ code: 'exempt' }] }, as);
  const last = await ctx.waitForMail(
    email,
    (m) => /our decision/.test(m.subject) && m.subject.includes(appeal.id),
  );
  assert.match(last.text, /decision on your\s+appeal/);
  assert.match(last.text, /Attorney General of\s+Virginia/);
  assert.doesNotMatch(last.text, /request\/appeal\//);
}
