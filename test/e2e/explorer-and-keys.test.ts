// The web app against a real `medchain dev` node in headless Chromium: the node serves the app under its
// strict CSP; the explorer shows the chain and finds a block by height; an identity is created, locked,
// refused with a wrong passphrase, unlocked, and registered on chain (signed in the browser); a known key is
// imported and registered; nothing the page sends carries a private key or a passphrase.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/bytes.ts';
import { keyPairFromSeed } from '../../src/crypto/ed25519.ts';
import { openIdentity, parseImport } from '../../src/web/keystore.ts';
import { DESKTOP, MOBILE, WEB_DIST, foreignRequests, leaks, openBrowser, screenshot, startAppNode, type AppNode, type BrowserSession } from './helpers.ts';

const PASSPHRASE = 'plum orbit candle seventy';
const IMPORT_PASSPHRASE = 'quiet harbour lantern ninety';
const IMPORTED_SEED = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);

let node: AppNode;
let browser: BrowserSession;

beforeAll(async () => {
  node = await startAppNode('e2e-explorer');
  browser = await openBrowser({ viewport: MOBILE });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await node?.stop();
});

async function waitForChain(page: Page): Promise<void> {
  await page.getByTestId('head-height').waitFor({ timeout: 20_000 });
}

const card = (page: Page, label: string) => page.getByTestId('identity-card').filter({ has: page.locator('.identity-label', { hasText: label }) });

describe('web app e2e', () => {
  it('is served by the node under a CSP that forbids inline script, and the build has none', async () => {
    const response = await browser.page.goto(`${node.origin}/`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = readFileSync(join(WEB_DIST, 'index.html'), 'utf8');
    expect(html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g)).toEqual([expect.stringMatching(/^<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>$/)]);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    await waitForChain(browser.page);
    await expect(browser.page.locator('.status-chain').textContent()).resolves.toBe('medchain-dev');
  }, 60_000);

  it('explorer: latest blocks from the node, and a search for a height opens that block', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: 'Explorer' }).click();
    await page.waitForURL(`${node.origin}/explorer`);
    const blocks = page.getByTestId('latest-blocks').locator('li');
    await blocks.first().waitFor({ timeout: 20_000 });
    // Live: new blocks appear without a reload (1 s slots on the dev chain).
    await expect.poll(() => blocks.count(), { timeout: 20_000 }).toBeGreaterThan(2);
    await expect(blocks.first().textContent()).resolves.toMatch(/Demo General Hospital/);
    await page.getByTestId('latest-transactions').getByText('Doctor attested').waitFor({ timeout: 20_000 });
    await screenshot(page, 'explorer-390');

    await page.getByLabel('Search the chain').fill('2');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(`${node.origin}/explorer/blocks/2`);
    await page.getByRole('heading', { name: 'Block #2' }).waitFor();
    await expect(page.locator('.field', { hasText: 'Proposer' }).textContent()).resolves.toMatch(/Demo General Hospital/);
    await screenshot(page, 'block-390');

    await page.setViewportSize(DESKTOP);
    await page.goto(`${node.origin}/explorer`);
    await page.getByTestId('latest-blocks').locator('li').first().waitFor();
    await screenshot(page, 'explorer-desktop');
    await page.setViewportSize(MOBILE);

    // A refused search says why, in words.
    await page.getByLabel('Search the chain').fill('99999999');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('There is no block at height 99999999 yet.').waitFor();
  }, 90_000);

  it('keys: create an identity with a passphrase, lock, refuse a wrong passphrase, unlock, register on chain', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: /^Keys/ }).click();
    await page.waitForURL(`${node.origin}/keys`);
    await page.getByText('Your key is your access').waitFor();
    const form = page.getByTestId('create-identity');
    await form.getByLabel('Name for this identity').fill('Alice <b>test</b>');
    await form.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await form.getByLabel('Passphrase again').fill(PASSPHRASE);
    await form.getByRole('checkbox').check();
    await form.getByRole('button', { name: 'Create identity' }).click();
    const alice = card(page, 'Alice <b>test</b>');
    await alice.getByText('Unlocked').waitFor({ timeout: 20_000 });
    // The label is shown as text, markup and all.
    await expect(alice.locator('.identity-label').textContent()).resolves.toBe('Alice <b>test</b>');
    await page.getByText('Download a backup now').waitFor();
    await screenshot(page, 'keys-created-390');

    // Browser storage holds only the encrypted file.
    const stored = JSON.parse((await page.evaluate('localStorage.getItem("medchain.identities")')) as string) as { identities: Record<string, unknown>[] };
    expect(stored.identities).toHaveLength(1);
    expect(Object.keys(stored.identities[0]!).sort()).toEqual(['cipher', 'ciphertext', 'createdAt', 'format', 'kdf', 'label', 'nonce', 'publicKey', 'role', 'version']);

    // The backup download is the encrypted file, and it opens with the passphrase.
    const [download] = await Promise.all([page.waitForEvent('download'), alice.getByRole('button', { name: 'Download backup' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^medchain-Alice-b-test-b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}\.json$/);
    const backup = parseImport(readFileSync((await download.path())!, 'utf8'));
    if (backup.kind !== 'identity-file') throw new Error('the backup is not an identity file');
    expect(backup.file).toEqual(stored.identities[0]);
    const opened = await openIdentity(backup.file, PASSPHRASE);
    expect(toHex(opened.publicKey)).toBe(backup.file.publicKey);

    await alice.getByRole('button', { name: 'Lock' }).click();
    await alice.getByText('Locked').waitFor();
    await alice.getByRole('button', { name: 'Unlock' }).click();
    await alice.getByLabel(/^Passphrase for/).fill('not the passphrase');
    await alice.getByRole('button', { name: 'Unlock' }).click();
    await alice.getByText('Wrong passphrase.').waitFor({ timeout: 20_000 });
    await alice.getByLabel(/^Passphrase for/).fill(PASSPHRASE);
    await alice.getByRole('button', { name: 'Unlock' }).click();
    await alice.getByText('Unlocked').waitFor({ timeout: 20_000 });

    await alice.getByRole('button', { name: 'Register as patient' }).click();
    await alice.locator('.field', { hasText: 'On the chain' }).getByText('patient').waitFor({ timeout: 30_000 });
    await screenshot(page, 'keys-registered-390');
  }, 120_000);

  it('keys: import a known private key, register it, and no request carries the key or a passphrase', async () => {
    const { page } = browser;
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByLabel(/or paste a backup file/).fill(toHex(IMPORTED_SEED));
    await page.getByRole('button', { name: 'Import', exact: true }).last().click();
    await page.getByText('That is an unencrypted private key.').waitFor();
    await page.getByLabel('Name for this identity').fill('Imported doctor');
    await page.getByLabel('I am a').selectOption('doctor');
    await page.getByLabel('Passphrase', { exact: true }).fill(IMPORT_PASSPHRASE);
    await page.getByLabel('Passphrase again').fill(IMPORT_PASSPHRASE);
    await page.getByRole('button', { name: 'Encrypt and save' }).click();
    const imported = card(page, 'Imported doctor');
    await imported.getByText('Unlocked').waitFor({ timeout: 20_000 });
    const keyPair = keyPairFromSeed(IMPORTED_SEED);
    await expect(imported.getAttribute('data-fingerprint')).resolves.toBe(`${toHex(keyPair.publicKey).slice(0, 4)}-${toHex(keyPair.publicKey).slice(4, 8)}-${toHex(keyPair.publicKey).slice(8, 12)}-${toHex(keyPair.publicKey).slice(12, 16)}`);
    await imported.getByRole('button', { name: 'Register as doctor' }).click();
    await imported.locator('.field', { hasText: 'On the chain' }).getByText('doctor').waitFor({ timeout: 30_000 });

    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'keys-desktop');
    await page.setViewportSize(MOBILE);

    // The registration was signed in the page: its transaction reached the node, the key did not.
    const submissions = browser.sent.filter((r) => r.body.includes('"tx_submit"'));
    expect(submissions.length).toBeGreaterThanOrEqual(2);
    expect(leaks(browser.sent, [IMPORTED_SEED, keyPair.secretKey, PASSPHRASE, IMPORT_PASSPHRASE])).toEqual([]);
    expect(foreignRequests(browser.sent, node.origin)).toEqual([]);
    expect(browser.sent.some((r) => r.kind === 'ws')).toBe(true);
  }, 120_000);

  it('ran without console errors, uncaught exceptions or CSP violations', () => {
    expect(browser.problems).toEqual([]);
  });
});
