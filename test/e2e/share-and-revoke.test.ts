// The must-hold flow in headless Chromium against a real `medchain dev` node serving the built app, with a
// patient and a doctor in two separate browsers: the patient creates an identity (passphrase), registers, saves
// their personal information and adds a FHIR record whose text fields hold markup, then shares it with the dev
// chain's demo doctor, found by name; the doctor imports the demo key, sees the record, opens it (the read is
// recorded on chain first) and the plaintext is on screen as text (no element, no dialog); the patient sees
// the read in the access log and revokes; the doctor's next open is refused in plain words. Every request and
// WebSocket frame of both browsers is checked: no private key, seed, passphrase or plaintext. Screenshots of
// each dashboard and the explorer at 390 px and desktop go to test-results/screenshots/.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { demoKeys } from '../../src/cli/commands/dev.ts';
import { toHex } from '../../src/codec/bytes.ts';
import { openIdentity, parseIdentityFile } from '../../src/web/keystore.ts';
import { DESKTOP, MOBILE, SCREENSHOTS, foreignRequests, leaks, openBrowser, screenshot, startAppNode, type AppNode, type BrowserSession } from './helpers.ts';

const FIXTURE = readFileSync(new URL('../fixtures/fhir/markup-in-text.json', import.meta.url), 'utf8');
const PATIENT_PASSPHRASE = 'marble otter seventeen lamps';
const DOCTOR_PASSPHRASE = 'copper finch walking north';
const DEMO_PASSPHRASE = 'seven quiet harbour bells';
const PERSONAL_NAME = 'Marguerite Okonkwo-Lindqvist';
const PERSONAL_PHONE = '+46 8 555 012 34';
const RECORD_NAME = 'Asthma summary';
const MARKUP_TITLE = 'Asthma <img src=x onerror=alert(1)>';
const MARKUP_NOTE = '<script>alert(1)</script> Wheezing at night, worse in spring.';
/** Strings only the decrypted record (or personal information) holds: none may reach the node. */
const PLAINTEXTS = [FIXTURE, 'Zephyrine', 'Quillfeather', 'Salbutamol 100 micrograms', 'Wheezing at night', MARKUP_TITLE, MARKUP_NOTE, PERSONAL_NAME, PERSONAL_PHONE];

const doctorKeys = demoKeys().doctor;

let node: AppNode;
let patient: BrowserSession;
let doctor: BrowserSession;
const dialogs: string[] = [];
let recordId = '';

beforeAll(async () => {
  [node, patient, doctor] = await Promise.all([startAppNode('e2e-share'), openBrowser({ viewport: MOBILE }), openBrowser({ viewport: MOBILE })]);
  for (const session of [patient, doctor]) {
    // An alert, confirm or prompt would mean record text ran as script: note it and dismiss it.
    session.context.on('page', (page) => page.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss())));
    session.page.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
  }
}, 60_000);

// A failed step leaves both browsers' screens behind, to see what the page said.
beforeEach((context) => {
  onTestFailed(async () => {
    const name = context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
    await Promise.all([patient && screenshot(patient.page, `failed-${name}-patient`), doctor && screenshot(doctor.page, `failed-${name}-doctor`)].map((p) => p?.catch(() => undefined)));
  });
});

afterAll(async () => {
  await Promise.all([patient?.close(), doctor?.close()]);
  await node?.stop();
});

async function createIdentity(page: Page, label: string, passphrase: string): Promise<void> {
  await page.goto(`${node.origin}/keys`);
  const form = page.getByTestId('create-identity');
  await form.getByLabel('Name for this identity').fill(label);
  await form.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await form.getByLabel('Passphrase again').fill(passphrase);
  await form.getByRole('checkbox').check();
  await form.getByRole('button', { name: 'Create identity' }).click();
  await page.getByTestId('identity-card').filter({ hasText: label }).getByText('Unlocked').waitFor({ timeout: 20_000 });
}

async function goTo(page: Page, nav: 'Patient' | 'Doctor' | 'Hospital' | 'Explorer'): Promise<void> {
  await page.getByRole('navigation', { name: 'Dashboards' }).getByRole('link', { name: nav }).click();
}

async function shots(page: Page, name: string): Promise<void> {
  await screenshot(page, `${name}-390`);
  await page.setViewportSize(DESKTOP);
  await screenshot(page, `${name}-desktop`);
  await page.setViewportSize(MOBILE);
}

describe('share and revoke, end to end', () => {
  it('patient: identity, registration, personal information and a FHIR record, encrypted in the browser', async () => {
    const { page } = patient;
    await createIdentity(page, 'My health', PATIENT_PASSPHRASE);
    await goTo(page, 'Patient');
    await page.getByRole('button', { name: 'Register as patient' }).click();
    await page.getByRole('button', { name: 'Register as patient' }).waitFor({ state: 'detached', timeout: 30_000 });

    // Personal information: a FHIR Patient record, validated and encrypted here.
    await page.getByRole('button', { name: 'Add your personal information' }).click();
    const info = page.getByTestId('personal-info-form');
    await info.getByLabel('Full name').fill(PERSONAL_NAME);
    await info.getByLabel('Birth date').fill('1979-11-02');
    await info.getByLabel('Phone').fill(PERSONAL_PHONE);
    await info.getByRole('button', { name: 'Encrypt and save' }).click();
    await page.locator('#personal .field', { hasText: 'Name' }).getByText(PERSONAL_NAME).waitFor({ timeout: 30_000 });

    // A FHIR bundle with markup in its text fields, pasted, checked, encrypted and uploaded.
    await page.getByRole('button', { name: 'Add a record' }).click();
    const add = page.getByTestId('add-record');
    await add.getByLabel('Name (only you see it)').fill(RECORD_NAME);
    await add.getByLabel('FHIR R4 Bundle (JSON)').fill(FIXTURE);
    await add.getByRole('button', { name: 'Check' }).click();
    await expect(add.getByTestId('record-summary').textContent({ timeout: 20_000 })).resolves.toMatch(/^FHIR R4 collection bundle, .*1 Patient, 1 Condition, 1 Observation, 1 MedicationStatement, 1 AllergyIntolerance$/);
    await add.getByRole('button', { name: 'Encrypt and add' }).click();
    await page.getByTestId('record-added').waitFor({ timeout: 30_000 });
    const row = page.getByTestId('record-row').filter({ hasText: RECORD_NAME });
    await row.waitFor({ timeout: 20_000 });
    recordId = (await row.getAttribute('data-record')) ?? '';
    expect(recordId).toMatch(/^[0-9a-f]{64}$/);
    await page.getByTestId('record-row').filter({ hasText: 'Personal information' }).waitFor();
  }, 90_000);

  it('patient: shares it with the demo doctor, found by name, after a confirmation that says who, what and until when', async () => {
    const { page } = patient;
    const form = page.getByTestId('share-form');
    await form.getByLabel('Record', { exact: true }).selectOption({ label: RECORD_NAME });
    await form.getByLabel('Find the doctor').fill('demo doc');
    await form.getByRole('button', { name: 'Choose Dr. Demo Doctor, Demo General Hospital' }).click({ timeout: 20_000 });
    await form.getByTestId('chosen-doctor').getByText('Attested').waitFor();
    await form.getByRole('button', { name: 'Review and share' }).click();
    const dialog = page.getByTestId('share-dialog');
    await dialog.waitFor();
    const said = (await dialog.textContent()) ?? '';
    expect(said).toContain('Dr. Demo Doctor');
    expect(said).toContain('Demo General Hospital');
    expect(said).toContain(`${toHex(doctorKeys.publicKey).slice(0, 4)}-${toHex(doctorKeys.publicKey).slice(4, 8)}`);
    expect(said).toContain(`“${RECORD_NAME}”`);
    expect(said).toMatch(/until .*20\d\d/);
    expect(said).toContain('Revoking stops future access only');
    // The dialog as the patient sees it (the viewport, not the whole page behind it).
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'patient-share-dialog-390.png') });
    await dialog.getByRole('button', { name: 'Yes, share it' }).click();
    await expect(page.getByTestId('share-done').textContent({ timeout: 30_000 })).resolves.toMatch(/^Dr\. Demo Doctor can now read “Asthma summary” until /);
    await page.getByTestId('access-holders').getByText('Dr. Demo Doctor').waitFor({ timeout: 20_000 });
  }, 60_000);

  it('doctor: imports the demo key, sees the record, opens it: the plaintext is on screen as text', async () => {
    const { page } = doctor;
    await page.goto(`${node.origin}/keys`);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByLabel(/or paste a backup file/).fill(toHex(doctorKeys.seed));
    await page.getByRole('button', { name: 'Import', exact: true }).last().click();
    await page.getByLabel('Name for this identity').fill('Dr Demo (work)');
    await page.getByLabel('I am a').selectOption('doctor');
    await page.getByLabel('Passphrase', { exact: true }).fill(DOCTOR_PASSPHRASE);
    await page.getByLabel('Passphrase again').fill(DOCTOR_PASSPHRASE);
    await page.getByRole('button', { name: 'Encrypt and save' }).click();
    await page.getByTestId('identity-card').filter({ hasText: 'Dr Demo (work)' }).getByText('Unlocked').waitFor({ timeout: 20_000 });

    await goTo(page, 'Doctor');
    await page.getByTestId('attestations').getByText('Dr. Demo Doctor').waitFor({ timeout: 20_000 });
    const row = page.locator(`[data-testid="shared-row"][data-record="${recordId}"]`);
    await row.getByText('Access active').waitFor({ timeout: 20_000 });
    await row.getByRole('button', { name: 'Open', exact: true }).click();
    await row.getByText('Before the node sends anything, your read goes on the chain').waitFor();
    await row.getByLabel('Why are you opening it?').selectOption('TREAT');
    await row.getByRole('button', { name: 'Open record' }).click();
    const view = row.getByTestId('fhir-view');
    await view.waitFor({ timeout: 30_000 });
    await view.getByText('Zephyrine Quillfeather').waitFor();
    // The markup is shown as the text it is, and nothing in the page became an element from it.
    await expect(view.getByText(MARKUP_TITLE, { exact: true }).count()).resolves.toBe(1);
    await expect(view.getByText(MARKUP_NOTE, { exact: true }).count()).resolves.toBe(1);
    await view.getByText('Salbutamol 100 micrograms inhaler').waitFor();
    await view.getByText('Penicillin').waitFor();
    await expect(page.locator('img[src="x"]').count()).resolves.toBe(0);
    await expect(page.evaluate('document.querySelectorAll("script:not([src])").length')).resolves.toBe(0);
    await row.getByText('Your read is on the chain').waitFor();
    await shots(page, 'doctor-record');
  }, 90_000);

  it('patient: the read is in the access log (live), then revokes, told it stops future access only', async () => {
    const { page } = patient;
    const log = page.getByTestId('access-log');
    await log.getByText(`Dr. Demo Doctor opened “${RECORD_NAME}”`).waitFor({ timeout: 20_000 });
    await log.getByText('Purpose: treatment (TREAT).').first().waitFor();
    await shots(page, 'patient');

    const holder = page.getByTestId('holder-row').filter({ hasText: 'Dr. Demo Doctor' }).filter({ hasText: RECORD_NAME });
    await holder.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByTestId('revoke-dialog');
    await dialog.getByText('Revoking stops future access only').waitFor();
    await expect(dialog.textContent()).resolves.toContain('cannot be taken back');
    await dialog.getByRole('button', { name: 'Revoke access' }).click();
    await expect(page.getByTestId('revoke-done').textContent({ timeout: 30_000 })).resolves.toBe(`Dr. Demo Doctor can no longer open “${RECORD_NAME}”.`);
    await log.getByText(`You stopped Dr. Demo Doctor's access to “${RECORD_NAME}”`).waitFor({ timeout: 20_000 });
  }, 60_000);

  it('doctor: can no longer open it, and is told why', async () => {
    const { page } = doctor;
    const row = page.locator(`[data-testid="shared-row"][data-record="${recordId}"]`);
    await row.getByText('Access revoked').waitFor({ timeout: 20_000 });
    await row.getByRole('button', { name: 'Close and forget the contents' }).click();
    await expect(page.getByText('Zephyrine Quillfeather').count()).resolves.toBe(0);
    await row.getByRole('button', { name: 'Open record' }).click();
    await row.getByText('The patient revoked your access to this record.').waitFor({ timeout: 20_000 });
    await expect(row.locator('.error-code').textContent()).resolves.toBe('GRANT_REVOKED');
    await shots(page, 'doctor');
  }, 60_000);

  it('hospital and explorer dashboards', async () => {
    const { page } = doctor;
    await page.goto(`${node.origin}/keys`);
    await page.getByRole('button', { name: 'Add demo identities' }).click();
    await page.getByLabel('Passphrase for the demo identities').fill(DEMO_PASSPHRASE);
    await page.getByTestId('demo-identities').getByRole('button', { name: 'Add demo identities' }).click();
    await page.getByTestId('identity-card').filter({ hasText: 'Demo hospital' }).getByText('Unlocked').waitFor({ timeout: 30_000 });
    await goTo(page, 'Hospital');
    await page.getByTestId('validators').getByText('Demo General Hospital').waitFor({ timeout: 20_000 });
    await page.getByTestId('validators').getByText(/blocks? proposed/).waitFor();
    await page.getByTestId('attested-doctors').getByText('Dr. Demo Doctor').waitFor({ timeout: 20_000 });
    await page.getByTestId('attest-form').waitFor();
    await shots(page, 'hospital');

    await page.goto(`${node.origin}/explorer/records/${recordId}`);
    await page.getByRole('heading', { name: 'Medical record' }).waitFor({ timeout: 20_000 });
    await page.getByText('Revoked').first().waitFor();
    await expect(page.getByText('Zephyrine').count()).resolves.toBe(0);
    await shots(page, 'explorer-record');
  }, 90_000);

  it('nothing either browser sent carries a key, a seed, a passphrase or the plaintext; no dialog, no page error', async () => {
    // The patient's key was made in the browser: open the stored (encrypted) file with the passphrase to know it.
    const stored = JSON.parse((await patient.page.evaluate('localStorage.getItem("medchain.identities")')) as string) as { identities: unknown[] };
    const patientKeys = await openIdentity(parseIdentityFile(stored.identities[0]), PATIENT_PASSPHRASE);
    const secrets = [PATIENT_PASSPHRASE, DOCTOR_PASSPHRASE, DEMO_PASSPHRASE, patientKeys.seed, patientKeys.secretKey, doctorKeys.seed, doctorKeys.secretKey, ...PLAINTEXTS];
    const sent = [...patient.sent, ...doctor.sent];
    expect(sent.filter((r) => r.body.includes('"emr_read"')).length).toBeGreaterThanOrEqual(2);
    expect(sent.filter((r) => r.body.includes('"record_upload"')).length).toBeGreaterThanOrEqual(2);
    expect(sent.some((r) => r.kind === 'ws')).toBe(true);
    expect(leaks(sent, secrets)).toEqual([]);
    expect(foreignRequests(sent, node.origin)).toEqual([]);
    expect(dialogs).toEqual([]);
    expect([...patient.problems, ...doctor.problems]).toEqual([]);
  });
});
