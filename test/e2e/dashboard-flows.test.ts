// The dashboards' other flows in headless Chromium against a real `medchain dev` node, with the dev chain's
// demo identities in one browser: a file attachment open to emergency access, a FHIR record shared with
// permission to add versions; the doctor adds a version, then breaks the glass on the attachment with a reason
// and downloads exactly the uploaded bytes; the patient sees the emergency access highlighted and the doctor's
// version, and erases the attachment after typing its name; the hospital attests a newly registered doctor and
// revokes the attestation with a reason. Nothing the page sends carries a key, a passphrase or plaintext.

import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { demoKeys } from '../../src/cli/commands/dev.ts';
import { toHex } from '../../src/codec/bytes.ts';
import { keyPairFromSeed } from '../../src/crypto/ed25519.ts';
import { foreignRequests, leaks, MOBILE, openBrowser, screenshot, startAppNode, type AppNode, type BrowserSession } from './helpers.ts';

const PASSPHRASE = 'lantern meadow ninety owls';
const NEW_DOCTOR_PASSPHRASE = 'tidal granite moss fourteen';
const NEW_DOCTOR_SEED = new Uint8Array(32).map((_, i) => (i * 53 + 7) & 0xff);
const PDF = Buffer.from('%PDF-1.4\n% Discharge letter for Ingrid Vasquez-Holloway: discharged home, follow up in clinic.\n%%EOF\n');
const SUMMARY = readFileSync(new URL('../fixtures/fhir/patient-summary-collection.json', import.meta.url), 'utf8');
const DOCTOR_VERSION = readFileSync(new URL('../fixtures/fhir/everything-searchset.json', import.meta.url), 'utf8');
const EMERGENCY_REASON = 'Unconscious on arrival in the emergency department';
const PLAINTEXTS = [PDF, 'Ingrid Vasquez-Holloway', SUMMARY, DOCTOR_VERSION, 'van der Berg', 'Glucose [Mass/volume]', 'Fasting sample'];

let node: AppNode;
let browser: BrowserSession;
const dialogs: string[] = [];
let letterId = '';
let summaryId = '';

beforeAll(async () => {
  [node, browser] = await Promise.all([startAppNode('e2e-flows'), openBrowser({ viewport: MOBILE })]);
  browser.page.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
}, 60_000);

beforeEach((context) => {
  onTestFailed(async () => {
    await screenshot(browser.page, `failed-flows-${context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}`).catch(() => undefined);
  });
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
});

async function goTo(page: Page, nav: 'Patient' | 'Doctor' | 'Hospital'): Promise<void> {
  await page.getByRole('navigation', { name: 'Dashboards' }).getByRole('link', { name: nav }).click();
}

async function addRecord(page: Page, name: string, fill: (form: ReturnType<Page['getByTestId']>) => Promise<void>, emergency: boolean): Promise<string> {
  await page.getByRole('button', { name: 'Add a record' }).click();
  const form = page.getByTestId('add-record');
  await form.getByLabel('Name (only you see it)').fill(name);
  await fill(form);
  if (emergency) await form.getByRole('checkbox', { name: /Allow emergency access/ }).check();
  await form.getByRole('button', { name: 'Encrypt and add' }).click();
  await page.getByTestId('record-added').waitFor({ timeout: 30_000 });
  const row = page.getByTestId('record-row').filter({ hasText: name });
  await row.waitFor({ timeout: 20_000 });
  return (await row.getAttribute('data-record')) ?? '';
}

describe('dashboard flows, end to end', () => {
  it('patient: a PDF open to emergency access, and a FHIR record shared with permission to add versions', async () => {
    const { page } = browser;
    await page.goto(`${node.origin}/keys`);
    await page.getByRole('button', { name: 'Add demo identities' }).click();
    await page.getByLabel('Passphrase for the demo identities').fill(PASSPHRASE);
    await page.getByTestId('demo-identities').getByRole('button', { name: 'Add demo identities' }).click();
    await page.getByTestId('identity-card').filter({ hasText: 'Demo hospital' }).getByText('Unlocked').waitFor({ timeout: 30_000 });

    await goTo(page, 'Patient');
    letterId = await addRecord(
      page,
      'Discharge letter',
      async (form) => {
        await form.getByRole('button', { name: 'Upload a file' }).click();
        await form.getByLabel('File').setInputFiles({ name: 'letter.pdf', mimeType: 'application/pdf', buffer: PDF });
        await expect(form.getByTestId('record-summary').textContent({ timeout: 20_000 })).resolves.toMatch(/^PDF document, .*: kept as an attachment$/);
      },
      true,
    );
    summaryId = await addRecord(
      page,
      'Diabetes summary',
      async (form) => {
        await form.getByLabel('FHIR R4 Bundle (JSON)').fill(SUMMARY);
        await form.getByRole('button', { name: 'Check' }).click();
        await form.getByTestId('record-summary').waitFor({ timeout: 20_000 });
      },
      false,
    );
    // A refused upload says why, before anything is encrypted or sent.
    await page.getByRole('button', { name: 'Add a record' }).click();
    const form = page.getByTestId('add-record');
    await form.getByLabel('FHIR R4 Bundle (JSON)').fill('{"resourceType": "Patient", "name": "nope"}');
    await form.getByRole('button', { name: 'Check' }).click();
    await form.getByText('expected a FHIR Bundle, got a Patient; wrap the resources in a Bundle of type collection').waitFor({ timeout: 20_000 });
    await expect(form.getByRole('button', { name: 'Encrypt and add' }).isDisabled()).resolves.toBe(true);
    await form.getByRole('button', { name: 'Cancel' }).click();

    const share = page.getByTestId('share-form');
    await share.getByLabel('Record', { exact: true }).selectOption({ label: 'Diabetes summary' });
    await share.getByLabel('Find the doctor').fill(toHex(demoKeys().doctor.publicKey).slice(0, 8));
    await share.getByRole('button', { name: /^Choose Dr\. Demo Doctor/ }).click({ timeout: 20_000 });
    await share.getByRole('checkbox', { name: /Also add new versions/ }).check();
    await share.getByLabel('For how long').selectOption('7');
    await share.getByRole('button', { name: 'Review and share' }).click();
    const dialog = page.getByTestId('share-dialog');
    await expect(dialog.textContent()).resolves.toContain('read and add new versions to');
    await dialog.getByRole('button', { name: 'Yes, share it' }).click();
    await page.getByTestId('share-done').waitFor({ timeout: 30_000 });
  }, 120_000);

  it('doctor: adds a version where allowed, then breaks the glass on the PDF and downloads exactly its bytes', async () => {
    const { page } = browser;
    await goTo(page, 'Doctor');
    const row = page.locator(`[data-testid="shared-row"][data-record="${summaryId}"]`);
    await row.getByRole('button', { name: 'Add a version' }).click({ timeout: 20_000 });
    const version = row.getByTestId('add-version');
    await version.getByLabel('FHIR R4 Bundle (JSON)').fill(DOCTOR_VERSION);
    await version.getByRole('button', { name: 'Check' }).click();
    await version.getByTestId('record-summary').waitFor({ timeout: 20_000 });
    await version.getByRole('button', { name: 'Encrypt and add version' }).click();
    await row.getByText('Version 2 added.').waitFor({ timeout: 30_000 });

    const emergency = page.getByTestId('emergency-form');
    await emergency.getByLabel('Record id').fill(letterId);
    await emergency.getByLabel('Reason (the patient will read it)').fill(EMERGENCY_REASON);
    await emergency.getByRole('button', { name: 'Request emergency access' }).click();
    const dialog = page.getByTestId('emergency-dialog');
    await expect(dialog.textContent()).resolves.toContain(EMERGENCY_REASON);
    await dialog.getByRole('button', { name: 'Open with emergency access' }).click();
    const opened = page.locator('#emergency').getByTestId('opened-record');
    await opened.getByText('Opened with emergency access').waitFor({ timeout: 30_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), opened.getByTestId('record-download').click()]);
    expect(download.suggestedFilename()).toMatch(/^medchain-record-[0-9a-f]{8}-v0\.pdf$/);
    expect(readFileSync((await download.path())!)).toEqual(PDF);
    await screenshot(page, 'doctor-emergency-390');
  }, 90_000);

  it('patient: the emergency access is highlighted with its reason; the doctor\'s version opens; the PDF is erased after typing its name', async () => {
    const { page } = browser;
    await goTo(page, 'Patient');
    const log = page.getByTestId('access-log');
    const item = log.locator('[data-kind="emergency"]');
    await item.getByText('Dr. Demo Doctor used emergency access to open “Discharge letter”').waitFor({ timeout: 20_000 });
    await item.getByText(`Reason given: “${EMERGENCY_REASON}”. Purpose: emergency treatment (ETREAT).`).waitFor();
    await page.getByText('Emergency access to your records: 1').waitFor();
    await log.getByText('Dr. Demo Doctor added a new version of “Diabetes summary”').waitFor();

    const summary = page.locator(`[data-testid="record-row"][data-record="${summaryId}"]`);
    await summary.getByText('2 versions').waitFor();
    await summary.getByRole('button', { name: 'Open', exact: true }).click();
    await summary.getByRole('button', { name: 'Open record' }).click();
    await summary.getByTestId('fhir-view').getByText('Chidi Okafor').waitFor({ timeout: 30_000 });
    await screenshot(page, 'patient-emergency-390');

    const letter = page.locator(`[data-testid="record-row"][data-record="${letterId}"]`);
    await letter.getByRole('button', { name: 'Erase' }).click();
    const dialog = page.getByTestId('erase-dialog');
    await dialog.getByText('crypto-shredding').waitFor();
    const confirm = dialog.getByRole('button', { name: 'Erase this record' });
    await dialog.getByLabel(/Type the record's name to confirm/).fill('Discharge');
    await expect(confirm.isDisabled()).resolves.toBe(true);
    await dialog.getByLabel(/Type the record's name to confirm/).fill('discharge letter');
    await confirm.click();
    await letter.getByText('Erased').waitFor({ timeout: 30_000 });
    await expect(letter.getByRole('button', { name: 'Open', exact: true }).count()).resolves.toBe(0);
  }, 90_000);

  it('hospital: attests a newly registered doctor found by key, then revokes with a reason', async () => {
    const { page } = browser;
    const newDoctor = toHex(keyPairFromSeed(NEW_DOCTOR_SEED).publicKey);
    // In-app navigation: a page load would lock every unlocked identity (keys are wiped on pagehide).
    await page.getByRole('banner').getByRole('link', { name: /^Keys/ }).click();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByLabel(/or paste a backup file/).fill(toHex(NEW_DOCTOR_SEED));
    await page.getByRole('button', { name: 'Import', exact: true }).last().click();
    await page.getByLabel('Name for this identity').fill('New doctor');
    await page.getByLabel('I am a').selectOption('doctor');
    await page.getByLabel('Passphrase', { exact: true }).fill(NEW_DOCTOR_PASSPHRASE);
    await page.getByLabel('Passphrase again').fill(NEW_DOCTOR_PASSPHRASE);
    await page.getByRole('button', { name: 'Encrypt and save' }).click();
    const card = page.getByTestId('identity-card').filter({ hasText: 'New doctor' });
    await card.getByRole('button', { name: 'Register as doctor' }).click({ timeout: 20_000 });
    await card.locator('.field', { hasText: 'On the chain' }).getByText('doctor').waitFor({ timeout: 30_000 });

    await goTo(page, 'Hospital');
    const form = page.getByTestId('attest-form');
    await form.getByLabel("Doctor's account key or fingerprint").fill(newDoctor);
    await form.getByText('not attested yet').waitFor({ timeout: 20_000 });
    await form.getByLabel('Name as patients will see it').fill('Dr. Nadia Whitfield');
    await form.getByLabel('Licence number').fill('GMC-7781234');
    await form.getByRole('button', { name: 'Review and attest' }).click();
    await page.getByTestId('attest-dialog').getByRole('button', { name: 'Attest' }).click();
    await form.getByText(/^Dr\. Nadia Whitfield is attested until /).waitFor({ timeout: 30_000 });
    const row = page.getByTestId('attested-doctors').locator('li', { hasText: 'Dr. Nadia Whitfield' });
    await row.getByText('Attested').waitFor({ timeout: 20_000 });

    await row.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByTestId('revoke-attestation-dialog');
    const confirm = dialog.getByRole('button', { name: 'Revoke attestation' });
    await expect(confirm.isDisabled()).resolves.toBe(true);
    await dialog.getByLabel('Reason (public on the chain)').fill('Left the hospital');
    await confirm.click();
    await row.getByText('Revoked', { exact: true }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'hospital-attested-390');
  }, 90_000);

  it('sent no key, passphrase or plaintext; no dialog, no page error', () => {
    const keys = demoKeys();
    const secrets = [PASSPHRASE, NEW_DOCTOR_PASSPHRASE, NEW_DOCTOR_SEED, ...[keys.patient, keys.doctor, keys.hospital].flatMap((k) => [k.seed, k.secretKey]), ...PLAINTEXTS];
    expect(leaks(browser.sent, secrets)).toEqual([]);
    expect(foreignRequests(browser.sent, node.origin)).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(browser.problems).toEqual([]);
  });
});
