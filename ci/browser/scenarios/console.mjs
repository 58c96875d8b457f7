// The privacy team's console (issue 10): sign in with an operator key, the queue, a
// request from the queue to fulfilment through the forms (audited under the key), the
// evidence opened on demand; then an incident's page, the notice's text edited (the
// generated draft's placeholders completed) and mailed to the affected people: each
// mailed once, the erased never, pressing again mails nobody.

const WINDOW = { from: '2026-08-01T00:00:00Z', to: '2026-10-31T23:59:59Z' };

export default async function console_(ctx) {
  const { assert, tenant: t } = ctx;
  const people = ['console.ann@example.org', 'console.ben@example.org', 'console.cat@example.org'];
  for (const email of people) {
    await ctx.api('POST', `/v1/tenants/${t}/subjects`, {
      identifiers: { email },
      birth_date: '1980-02-02',
      residence: 'US-CA',
      fields: [
        { category: 'user.name', value: 'x', purposes: ['research'], source: 'signup-form', store: 'primary', collected_at: '2026-09-01T10:00:00Z' },
      ],
      consents: [{ purpose: 'research', kind: 'express', evidence: { channel: 'web', shown: 'Consent v1' }, at: '2026-08-01T00:00:00Z' }],
    });
  }
  const request = (
    await ctx.api('POST', `/v1/tenants/${t}/requests`, {
      type: 'access', channel: 'web', jurisdiction: 'US-CA', identifiers: { email: people[0] },
    })
  ).json;

  // Sign in.
  const page = await ctx.newPage();
  await ctx.visit(page, '/console');
  await ctx.screenshot(page, 'sign-in');
  await page.getByLabel('API key').fill(ctx.operatorKey);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  assert.match(page.url(), new RegExp(`/console/t/${t}/requests$`));
  await ctx.axe(page);
  await ctx.screenshot(page, 'queue');
  // The same queue in French, from the footer's switch; its links keep the language.
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Français' }).click()]);
  assert.match(await page.locator('main').innerText(), /Demandes · /);
  await ctx.axe(page);
  await ctx.screenshot(page, 'queue-fr');
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: `Ouvrir ${request.id}` }).click()]);
  assert.match(await page.locator('main').innerText(), /Historique/);
  await ctx.axe(page);
  await ctx.screenshot(page, 'request-fr');
  await ctx.visit(page, `/console/t/${t}/requests?lang=en`);

  // From the queue to the request, then verify and fulfil with the forms.
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: `Open ${request.id}` }).click()]);
  await ctx.axe(page);
  assert.ok(!(await page.content()).includes(people[0]), 'the evidence stays sealed until opened');
  await ctx.screenshot(page, 'request');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Open the evidence' }).click()]);
  assert.ok((await page.content()).includes(people[0]), 'the evidence, once opened');
  await ctx.axe(page);
  await ctx.screenshot(page, 'evidence');
  await page.getByLabel('The person is signed in to their account').check();
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Verify' }).click()]);
  await ctx.axe(page);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Fulfil' }).click()]);
  assert.match(await page.locator('[role=status]').innerText(), /fulfilled/);
  await ctx.axe(page);
  await ctx.screenshot(page, 'fulfilled');
  const done = (await ctx.api('GET', `/v1/tenants/${t}/requests/${request.id}`)).json;
  assert.equal(done.state, 'fulfilled');
  const keyId = ctx.operatorKey.slice(4, 16);
  assert.ok(done.events.filter((e) => e.to === 'fulfilled').every((e) => e.actor === keyId));

  // A breach; one of the three is erased before the notices go.
  const impact = (
    await ctx.api('POST', `/v1/tenants/${t}/incidents`, {
      discovered_at: new Date(Date.now() - 3_600_000).toISOString(),
      window: WINDOW,
      stores: ['primary'],
      categories: ['user.name'],
      description: 'A misconfigured export job copied panel tables to a public bucket',
    })
  ).json;
  const erase = (
    await ctx.api('POST', `/v1/tenants/${t}/requests`, {
      type: 'delete', channel: 'web', jurisdiction: 'US-CA', identifiers: { email: people[2] },
    })
  ).json;
  if (erase.state !== 'verified') {
    await ctx.api('POST', `/v1/tenants/${t}/requests/${erase.id}/verify`, { authenticated: true, declaration: true });
  }
  await ctx.api('POST', `/v1/tenants/${t}/requests/${erase.id}/fulfil`, {});

  await ctx.visit(page, `/console/t/${t}/incidents`);
  await ctx.screenshot(page, 'incidents');
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: `Open ${impact.id}` }).click()]);
  await ctx.axe(page);
  await ctx.screenshot(page, 'incident');
  // The generated draft has placeholders: the team writes its own text (keeping the
  // headings the laws require) before it can be mailed.
  const draft = impact.notices.find((n) => n.audience === 'individuals' && n.tenant === t);
  const title = 'Prairie Research: a breach of your data';
  const text = draft.contents.map((h) => `${h}\nAbout ${h}: what we know now.`).join('\n\n');
  await page.getByLabel('Subject', { exact: true }).fill(title);
  await page.getByLabel('Text', { exact: true }).fill(`${text}\n\nCall us at 306-555-0100.`);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: "Save the notice's text" }).click()]);
  assert.match(await page.locator('[role=status]').innerText(), /text is saved/);
  await ctx.axe(page);
  await ctx.screenshot(page, 'notice-edited');
  const send = page.getByRole('button', { name: 'Mail the notice to the affected people' });
  await Promise.all([page.waitForNavigation(), send.click()]);
  assert.match(await page.locator('[role=status]').innerText(), /Mailed 2 people\. Not mailed: 1 erased/);
  await ctx.axe(page);
  await ctx.screenshot(page, 'mailed');
  for (const email of people.slice(0, 2)) {
    await ctx.waitForMail(email, (m) => m.subject === title);
  }
  // Pressed again: nobody is mailed twice.
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Mail the notice to the affected people' }).click()]);
  assert.match(await page.locator('[role=status]').innerText(), /Mailed 0 people/);
  for (const email of people.slice(0, 2)) {
    assert.equal((await ctx.mails(email)).filter((m) => m.subject === title).length, 1, email);
  }
  assert.equal((await ctx.mails(people[2])).filter((m) => m.subject === title).length, 0, 'the erased person');

  // Sign out: the console is closed again.
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out' }).click()]);
  assert.match(page.url(), /\/console$/);
}
