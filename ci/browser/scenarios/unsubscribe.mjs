// One-click unsubscribe (R13, S8): by the confirmation page in the browser, by a mail
// client's RFC 8058 POST without a browser, and a forged link gives the same pages.
export default async function unsubscribe(ctx) {
  const { assert, tenant } = ctx;
  const purpose = 'marketing.email';
  const person = async (email) => {
    const s = await ctx.api('POST', `/v1/tenants/${tenant}/subjects`, {
      identifiers: { email },
      fields: [{ category: 'user.contact.email', value: email, purposes: [purpose], source: 'signup-form' }],
      consents: [{ purpose, kind: 'express', evidence: { channel: 'web' } }],
    });
    const id = s.json.id;
    const links = await ctx.api('POST', `/v1/tenants/${tenant}/unsubscribe-links`, { purpose, subjects: [id] });
    const [link] = links.json.links;
    assert.equal(link.list_unsubscribe_post, 'List-Unsubscribe=One-Click');
    assert.equal(link.list_unsubscribe, `<${link.url}>`);
    return { id, url: link.url, path: new URL(link.url).pathname };
  };
  const consent = async (id) => {
    const c = await ctx.api('GET', `/v1/tenants/${tenant}/subjects/${id}/consents`);
    const last = c.json.history.filter((e) => e.purpose === purpose).at(-1);
    return { state: c.json.current[purpose]?.state, evidence: last?.evidence };
  };
  const main = (page) => page.locator('main').innerText();

  // By the page: GET shows one button and changes nothing; the click withdraws.
  const ada = await person('ada.unsubscribe@example.org');
  const page = await ctx.newPage();
  await ctx.visit(page, ada.path);
  const button = page.locator('main form button[type=submit]');
  assert.equal(await button.count(), 1, 'the confirmation page has one button');
  const confirmText = await main(page);
  await ctx.screenshot(page, 'confirm');
  assert.equal((await consent(ada.id)).state, 'granted', 'GET changes nothing');
  const [answer] = await Promise.all([page.waitForNavigation(), button.click()]);
  assert.equal(answer.status(), 200);
  await ctx.axe(page);
  const doneText = await main(page);
  assert.notEqual(doneText, confirmText);
  await ctx.screenshot(page, 'done');
  assert.deepEqual(await consent(ada.id), { state: 'withdrawn', evidence: { channel: 'unsubscribe-page' } });

  // As a mail client does (RFC 8058): a plain POST, no cookie, no page.
  const bob = await person('bob.unsubscribe@example.org');
  const res = await fetch(bob.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
    redirect: 'manual',
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await consent(bob.id), { state: 'withdrawn', evidence: { channel: 'one-click' } });

  // A forged token: the same confirmation page, the same answer to the button.
  const forgedPath = ada.path.slice(0, -4) + (ada.path.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  const forged = await ctx.newPage();
  await ctx.visit(forged, forgedPath);
  assert.equal(await main(forged), confirmText, 'a forged link shows the same page');
  await Promise.all([forged.waitForNavigation(), forged.locator('main form button').click()]);
  assert.equal(await main(forged), doneText, 'and answers the same');
  const random = await fetch(`${ctx.base}/u/not-a-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  assert.equal(random.status, 200);

  // The page's form without its CSRF token is refused with a 403 page; nothing changes.
  const cy = await person('cy.unsubscribe@example.org');
  const csrf = await ctx.newPage();
  await ctx.visit(csrf, cy.path);
  await csrf.locator('input[name=csrf]').evaluate((e) => e.remove());
  const [refused] = await Promise.all([csrf.waitForNavigation(), csrf.locator('main form button').click()]);
  assert.equal(refused.status(), 403);
  await ctx.axe(csrf);
  await ctx.screenshot(csrf, 'csrf-refused');
  // A wrong token is refused too.
  await ctx.visit(csrf, cy.path);
  await csrf.locator('input[name=csrf]').evaluate((e) => (e.value = 'x'.repeat(e.value.length)));
  const [wrong] = await Promise.all([csrf.waitForNavigation(), csrf.locator('main form button').click()]);
  assert.equal(wrong.status(), 403);
  assert.equal((await consent(cy.id)).state, 'granted', 'a refused form changes nothing');
}
