/** The front door: what medchain is, in a sentence, and where each kind of user goes. */
import { Page } from '../components/ui.tsx';
import { Link } from '../lib/router.tsx';
import type { Route } from '../lib/routes.ts';

const DOORS: readonly { to: Route; title: string; text: string }[] = [
  { to: { page: 'patient' }, title: 'I am a patient', text: 'Keep your medical records encrypted, share them with a doctor for as long as you choose, and see every time someone reads them.' },
  { to: { page: 'doctor' }, title: 'I am a doctor', text: 'Open the records patients shared with you. They are decrypted on your device; each read is recorded for the patient.' },
  { to: { page: 'hospital' }, title: 'I run a hospital node', text: 'Attest your doctors and watch your validator: blocks, finality and peers.' },
  { to: { page: 'explorer' }, title: 'Explore the chain', text: 'Blocks, transactions, accounts and validators. The chain holds commitments, never anyone\'s records.' },
];

export function HomePage() {
  return (
    <Page title="Medical records you control" subtitle="medchain keeps records encrypted on your device and writes every grant, revocation and read to a shared ledger run by hospitals.">
      <ul class="doors">
        {DOORS.map((door) => (
          <li key={door.title}>
            <Link to={door.to} class="door">
              <span class="door-title">{door.title}</span>
              <span class="door-text">{door.text}</span>
            </Link>
          </li>
        ))}
      </ul>
    </Page>
  );
}

export function NotFoundPage({ path }: { path: string }) {
  return (
    <Page title="Page not found">
      <div class="state state-empty">
        <p class="state-title">There is no page at {path}</p>
        <p class="state-body">
          Go to the <Link to={{ page: 'home' }}>start page</Link> or the <Link to={{ page: 'explorer' }}>explorer</Link>.
        </p>
      </div>
    </Page>
  );
}
