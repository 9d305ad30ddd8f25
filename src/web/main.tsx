/** Entry point: builds the services (RPC to this node, live feed, keystore, session) and renders the app. */
import { render } from 'preact';
import { MedchainRpc } from '../client/rpcClient.ts';
import { secureRandom } from '../envelope/random.ts';
import { App } from './App.tsx';
import { IdentityStore } from './identityStore.ts';
import { ChainData } from './lib/chainData.ts';
import { ChainFeed } from './lib/chainFeed.ts';
import { IDENTITIES_CHANGED, type Services } from './lib/services.ts';
import { DEFAULT_LOCK_AFTER_MS, KeySession } from './session.ts';
import './styles/app.css';

// The app talks only to the node that served it: same origin, so the node's CSP (connect-src 'self') holds.
const rpc = new MedchainRpc({ url: new URL('/rpc', location.href).href, timeoutMs: 30_000 });
const wsUrl = new URL('/ws', location.href);
wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';

const changes = new EventTarget();
const storedLock = Number(localStorage.getItem('medchain.lockAfterMs'));
const session = new KeySession({
  lockAfterMs: Number.isSafeInteger(storedLock) && storedLock >= 60_000 && storedLock <= 86_400_000 ? storedLock : DEFAULT_LOCK_AFTER_MS,
  clock: { now: () => Date.now(), setTimer: (cb, ms) => setTimeout(cb, ms), clearTimer: (h) => clearTimeout(h as number) },
  onChange: () => changes.dispatchEvent(new Event(IDENTITIES_CHANGED)),
});

// Any interaction counts as activity for the automatic lock.
for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const) addEventListener(type, () => session.touch(), { passive: true, capture: true });
// Keys are wiped when the page goes away (a reload asks for the passphrase again).
addEventListener('pagehide', () => session.lock());

const feed = new ChainFeed({ rpc, wsUrl: wsUrl.href });
feed.start();

const services: Services = {
  rpc,
  feed,
  chainData: new ChainData(rpc),
  identities: new IdentityStore(localStorage),
  session,
  random: secureRandom,
  now: () => Date.now(),
  changes,
};

render(<App services={services} />, document.getElementById('app')!);
