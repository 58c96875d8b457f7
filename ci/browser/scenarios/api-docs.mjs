// /docs: the interactive API reference (Swagger UI served by the binary) lists the
// operations of /openapi.json, loads nothing from elsewhere and breaks no CSP rule.
export default async function apiDocs(ctx) {
  const { assert } = ctx;
  // bypassCSP is off here: the page must work under its own policy.
  const context = await ctx.browser.newContext({ bypassCSP: false });
  const page = await context.newPage();
  const problems = [];
  const foreign = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin !== ctx.base && u.protocol !== 'data:') foreign.push(r.url());
  });
  try {
    const res = await page.goto(`${ctx.base}/docs`);
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    const ops = await page.locator('.opblock').count();
    const spec = await ctx.api('GET', '/openapi.json');
    const declared = Object.values(spec.json.paths).reduce(
      (n, item) => n + Object.keys(item).filter((k) => ['get', 'put', 'post', 'delete', 'patch'].includes(k)).length,
      0,
    );
    assert.equal(ops, declared, 'every operation of the document is listed');
    assert.ok(await page.getByText('/v1/tenants/{t}/subjects/{s}/consents').first().isVisible());
    await ctx.screenshot(page, 'docs', { fullPage: false });
    // One operation opened, with its parameters.
    await page.locator('.opblock-summary').first().click();
    await page.locator('.opblock-body').first().waitFor();
    await ctx.screenshot(page, 'docs-operation', { fullPage: false });
    assert.deepEqual(foreign, [], 'nothing is loaded from elsewhere');
    assert.deepEqual(problems, [], 'no script error or CSP violation');
  } finally {
    await context.close();
  }
  // axe, in a context that lets it in (the CSP allows only the server's scripts):
  // the list, then an operation opened for trying out.
  const a = await ctx.newPage();
  await ctx.visit(a, '/docs', { axe: false });
  await a.locator('.opblock').first().waitFor({ timeout: 15_000 });
  await ctx.axe(a);
  await a.locator('.opblock-summary-control').nth(3).click();
  await a.locator('.opblock-body').first().waitFor();
  await a.getByText('Try it out').first().click();
  await a.locator('.btn.execute').first().waitFor();
  await ctx.axe(a);
}
