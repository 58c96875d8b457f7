// The preference centre and Global Privacy Control (issue 10): ask for a link by
// e-mail, follow it from the outbox, withdraw the newsletter from the page (the
// ledger has the page as evidence); a page load with `Sec-GPC: 1` says the opt-out
// was honoured, for a browser no one is identified in and for the person.
export default async function preferences(ctx) {
  const { assert, tenant } = ctx;
  const email = 'nell.preferences@example.org';
  const s = await ctx.api('POST', `/v1/tenants/${tenant}/subjects`, {
    identifiers: { email },
    fields: [{ category: 'user.contact.email', value: email, purposes: ['marketing.email'], source: 'signup-form' }],
    consents: [{ purpose: 'marketing.email', kind: 'express', evidence: { channel: 'web' } }],
  });
  const id = s.json.id;
  const main = (page) => page.locator('main').innerText();

  // Ask for a link; the answer is the same for an unknown address.
  const page = await ctx.newPage();
  await ctx.visit(page, `/privacy/${tenant}/preferences`);
  await ctx.screenshot(page, 'ask');
  await page.locator('#email').fill(email);
  await Promise.all([page.waitForNavigation(), page.locator('main form button').click()]);
  await ctx.axe(page);
  const sent = await main(page);
  await ctx.screenshot(page, 'sent');
  const other = await ctx.newPage();
  await ctx.visit(other, `/privacy/${tenant}/preferences`);
  await other.locator('#email').fill('nobody.preferences@example.org');
  await Promise.all([other.waitForNavigation(), other.locator('main form button').click()]);
  assert.equal(await main(other), sent, 'an unknown address gets the same page');

  // The link from the outbox opens the preferences.
  let mail;
  for (let i = 0; i < 50 && !mail; i++) {
    [mail] = await ctx.mails(email);
    if (!mail) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(mail, 'a link was mailed');
  const link = mail.html.match(/href="([^"]*\/preferences\/link\/[A-Za-z0-9_-]+)"/)[1];
  await ctx.visit(page, new URL(link).pathname);
  const shown = await main(page);
  assert.match(shown, /newsletter/);
  await ctx.screenshot(page, 'preferences');

  // Withdraw the newsletter.
  const newsletter = page.locator('section.purpose', { hasText: 'newsletter' });
  await Promise.all([page.waitForNavigation(), newsletter.locator('button').click()]);
  await ctx.axe(page);
  assert.match(await main(page), /Your choice is saved/);
  await ctx.screenshot(page, 'saved');
  const c = await ctx.api('GET', `/v1/tenants/${tenant}/subjects/${id}/consents`);
  assert.equal(c.json.current['marketing.email'].state, 'withdrawn');
  const last = c.json.history.filter((e) => e.purpose === 'marketing.email').at(-1);
  assert.equal(last.evidence.page, 'preferences');

  // Global Privacy Control: a browser no one is identified in.
  const gpc = await ctx.newPage({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
  await ctx.visit(gpc, `/privacy/${tenant}`);
  assert.match(await main(gpc), /Opt-Out Request Honored/);
  await ctx.screenshot(gpc, 'gpc-notice', { fullPage: false });
  // The request portal honours it the same way.
  await ctx.visit(gpc, `/privacy/${tenant}/request`);
  assert.match(await main(gpc), /Opt-Out Request Honored/);
  await ctx.screenshot(gpc, 'gpc-portal', { fullPage: false });
  // And the person, through their session: the page says so again.
  await page.setExtraHTTPHeaders({ 'Sec-GPC': '1' });
  await ctx.visit(page, `/privacy/${tenant}/preferences`);
  assert.match(await main(page), /Opt-Out Request Honored/);
  await ctx.screenshot(page, 'gpc-preferences');
  const after = await ctx.api('GET', `/v1/tenants/${tenant}/subjects/${id}/consents`);
  assert.ok(after.json.history.some((e) => e.evidence?.signal === 'Sec-GPC: 1'), 'the signal is in the ledger');
}
