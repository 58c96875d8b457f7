// Unknown tenants and versions are a 404 page in the same look.
export default async function notFound(ctx) {
  const { assert } = ctx;
  const page = await ctx.newPage();
  await ctx.visit(page, '/privacy/no-such-tenant', { status: 404 });
  assert.ok(await page.locator('h1').count(), 'the 404 page has a heading');
  assert.ok(await page.locator('link[rel=stylesheet]').count(), 'and the stylesheet');
  await ctx.screenshot(page, 'unknown-tenant');
  await ctx.visit(page, `/privacy/${ctx.tenant}?version=99`, { status: 404 });
  await ctx.screenshot(page, 'unknown-version');
}
