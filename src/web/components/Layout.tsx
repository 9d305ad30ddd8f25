/** The frame of every page: top bar (brand, node status, keys), navigation, content. */
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { useFeed, useIdentities } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import { sectionOf, type Route } from '../lib/routes.ts';
import { useServices } from '../lib/services.ts';
import { NodeStatus } from './NodeStatus.tsx';

const NAV: readonly { page: 'patient' | 'doctor' | 'hospital' | 'explorer'; label: string }[] = [
  { page: 'patient', label: 'Patient' },
  { page: 'doctor', label: 'Doctor' },
  { page: 'hospital', label: 'Hospital' },
  { page: 'explorer', label: 'Explorer' },
];

export function Layout({ route, children }: { route: Route; children: ComponentChildren }) {
  const section = sectionOf(route);
  const feed = useFeed();
  const { unlocked } = useIdentities();
  const { session } = useServices();

  // After a navigation, move focus to the new page's heading so keyboard and screen-reader users land there.
  useEffect(() => {
    const heading = document.querySelector<HTMLElement>('.page-title');
    if (heading !== null && document.activeElement !== heading && document.activeElement?.closest('.page') == null) heading.focus({ preventScroll: true });
  }, [route]);

  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <Link to={{ page: 'home' }} class="brand" aria-label="medchain home">
            <svg class="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
              <path d="M10 3h4v7h7v4h-7v7h-4v-7H3v-4h7z" />
            </svg>
            <span class="brand-name">medchain</span>
          </Link>
          <NodeStatus feed={feed} />
          <div class="topbar-keys">
            {unlocked.length > 0 ? (
              <button type="button" class="button ghost small" onClick={() => session.lock()} title="Lock every unlocked identity now">
                <span class="lock-dot" aria-hidden="true" /> Lock
              </button>
            ) : null}
            <Link to={{ page: 'identities' }} class={section === 'identities' ? 'button secondary small current' : 'button secondary small'} aria-current={section === 'identities' ? 'page' : undefined}>
              Keys
              {unlocked.length > 0 ? (
                <span class="count" title={`${unlocked.length} unlocked`} aria-label={`${unlocked.length} unlocked`}>
                  {unlocked.length}
                </span>
              ) : null}
            </Link>
          </div>
        </div>
        <nav class="nav" aria-label="Dashboards">
          <ul class="nav-list">
            {NAV.map((item) => (
              <li key={item.page}>
                <Link to={{ page: item.page }} class={section === item.page ? 'nav-item current' : 'nav-item'} aria-current={section === item.page ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" class="main">
        {children}
      </main>
      <footer class="footer">
        <p>
          Records are encrypted in this browser before they leave it. Your keys and your records' contents are never sent to the node.
          {feed.node === undefined ? null : (
            <>
              {' '}
              medchain {feed.node.version} · {feed.node.engine === 'pos' ? 'proof of stake' : 'proof of work'}
            </>
          )}
        </p>
      </footer>
    </div>
  );
}
