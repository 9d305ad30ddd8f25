/** History routing: the URL is the state; links push it, the back button pops it. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { hrefOf, parseRoute, type Route } from './routes.ts';

const NAVIGATE_EVENT = 'medchain:navigate';

function current(): Route {
  return parseRoute(location.pathname, location.search);
}

/** Goes to a route (or an app-internal href), adding a history entry unless `replace`. */
export function navigate(to: Route | string, replace = false): void {
  const href = typeof to === 'string' ? to : hrefOf(to);
  if (href === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  dispatchEvent(new Event(NAVIGATE_EVENT));
  // A new page starts at its top, and its heading gets focus for screen readers (see Layout).
  scrollTo(0, 0);
}

/** The current route; re-renders on navigation and on back/forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = (): void => setRoute(current());
    addEventListener('popstate', update);
    addEventListener(NAVIGATE_EVENT, update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return route;
}

interface LinkProps {
  readonly to: Route;
  readonly children?: ComponentChildren;
  readonly class?: string;
  readonly title?: string;
  readonly 'aria-label'?: string;
  readonly 'aria-current'?: 'page';
  readonly 'data-testid'?: string;
}

/** An in-app link: a real <a href> (so it can be opened in a new tab), navigated without a page load. */
export function Link({ to, children, ...rest }: LinkProps) {
  const href = hrefOf(to);
  const onClick = (event: MouseEvent): void => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a {...rest} href={href} onClick={onClick}>
      {children}
    </a>
  );
}
