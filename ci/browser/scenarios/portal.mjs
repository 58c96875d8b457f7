// The request portal (issue 10, R22): an access request made in the browser, the
// code read from the outbox and entered, the status page from the acknowledgement's
// link, the package downloaded once fulfilled; an agent's request with its document
// (and a refused file); a parent's request. Screenshots of each page; axe on each.

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

async function submit(page) {
  const [answer] = await Promise.all([page.waitForNavigation(), page.locator('main form button').click()]);
  return answer;
}

export default async function portal(ctx) {
  const { assert, tenant: t } = ctx;
  const email = 'pia.portal@example.org';
  await ctx.api('POST', `/v1/tenants/${t}/subjects`, {
    identifiers: { email },
    birth_date: '1985-05-20',
    fields: [{ category: 'user.name', value: 'Pia Portal', purposes: ['research'], source: 'signup-form' }],
    consents: [{ purpose: 'research', kind: 'express', evidence: { channel: 'web' } }],
  });

  // The types offered, then the access form.
  const page = await ctx.newPage();
  const first = await ctx.visit(page, `/privacy/${t}/request`);
  assert.match(first.headers()['content-security-policy'], /default-src 'none'/);
  await ctx.screenshot(page, 'types');
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Get a copy of my information' }).click()]);
  await ctx.axe(page);
  await ctx.screenshot(page, 'form');

  // An address that is not one: the form again, the message at the field.
  await page.fill('#f-email', 'pia-at-example');
  let answer = await submit(page);
  assert.equal(answer.status(), 422);
  await ctx.axe(page);
  await ctx.screenshot(page, 'form-error');
  assert.equal(await page.inputValue('#f-email'), 'pia-at-example');

  await page.fill('#f-email', email);
  await page.selectOption('#f-region', 'CA');
  answer = await submit(page);
  assert.equal(answer.status(), 200);
  await ctx.axe(page);
  await ctx.screenshot(page, 'sent');
  assert.match(await page.locator('h1').innerText(), /Check your e-mail/);

  // The code and the acknowledgement with the status link, from the outbox.
  const codeMail = await ctx.waitForMail(email, (m) => /verification code/.test(m.subject));
  const code = codeMail.text.match(/^\s*(\d{6})\s*$/m)[1];
  const ack = await ctx.waitForMail(email, (m) => /we have received your request/.test(m.subject));
  const id = ack.subject.match(/ref\. ([0-9a-f-]+)/)[1];
  const link = ack.text.match(/https?:\/\/\S+\/request\/status\/[A-Za-z0-9_-]+/)[0];

  await page.fill('#f-code', code);
  answer = await submit(page);
  assert.equal(answer.status(), 200);
  await ctx.axe(page);
  await ctx.screenshot(page, 'verified');
  const request = (await ctx.api('GET', `/v1/tenants/${t}/requests/${id}`)).json;
  assert.equal(request.channel, 'web');
  assert.equal(request.state, 'verified');

  // The status page, then fulfilled: the download link works.
  const status = await ctx.newPage();
  await ctx.visit(status, new URL(link).pathname);
  await ctx.screenshot(status, 'status-verified');
  await ctx.api('POST', `/v1/tenants/${t}/requests/${id}/fulfil`, {});
  await ctx.visit(status, new URL(link).pathname);
  await ctx.screenshot(status, 'status-fulfilled');
  const download = status.getByRole('link', { name: 'Download your information' });
  const [pkg] = await Promise.all([status.waitForNavigation(), download.click()]);
  assert.equal(pkg.status(), 200);
  assert.match(await status.content(), /Pia Portal/);
  await ctx.screenshot(status, 'package');

  // An authorised agent: a refused file, then a PDF.
  const agent = await ctx.newPage();
  await ctx.visit(agent, `/privacy/${t}/request/access?as=agent`);
  await ctx.screenshot(agent, 'agent-form');
  await agent.fill('#f-email', email);
  await agent.selectOption('#f-region', 'US-CA');
  await agent.fill('#f-name', 'Alex Agent');
  await agent.fill('#f-requester-email', 'alex.agent@example.net');
  await agent.check('input[name=authority][value=power_of_attorney]');
  await agent.setInputFiles('#f-document', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a document') });
  answer = await submit(agent);
  assert.equal(answer.status(), 422);
  await ctx.axe(agent);
  await ctx.screenshot(agent, 'agent-refused');
  assert.match(await agent.content(), /not a PDF, PNG or JPEG/);
  await agent.setInputFiles('#f-document', { name: 'poa.pdf', mimeType: 'application/pdf', buffer: PDF });
  answer = await submit(agent);
  assert.equal(answer.status(), 200);
  await ctx.axe(agent);
  await ctx.screenshot(agent, 'agent-sent');
  const agentAck = await ctx.waitForMail('alex.agent@example.net', (m) => /we have received your request/.test(m.subject));
  const agentId = agentAck.subject.match(/ref\. ([0-9a-f-]+)/)[1];
  const docs = (await ctx.api('GET', `/v1/tenants/${t}/requests/${agentId}/documents`)).json;
  assert.equal(docs.length, 1);
  assert.equal(docs[0].type, 'pdf');

  // A parent or guardian, in French.
  const parent = await ctx.newPage({ extraHTTPHeaders: { 'accept-language': 'fr-CA' } });
  await ctx.visit(parent, `/privacy/${t}/request/know?as=parent`);
  assert.equal(await parent.getAttribute('html', 'lang'), 'fr');
  await ctx.screenshot(parent, 'parent-form-fr');
  await parent.fill('#f-email', 'kid.portal@example.org');
  await parent.selectOption('#f-region', 'US-CA');
  await parent.fill('#f-name', 'Pat Parent');
  await parent.fill('#f-requester-email', 'pat.parent@example.net');
  await parent.setInputFiles('#f-document', { name: 'proof.png', mimeType: 'image/png', buffer: PNG });
  answer = await submit(parent);
  assert.equal(answer.status(), 200);
  await ctx.axe(parent);
  await ctx.screenshot(parent, 'parent-sent-fr');
  await ctx.waitForMail('pat.parent@example.net', (m) => /we have received your request/.test(m.subject));
}
