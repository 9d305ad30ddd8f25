/**
 * The app's pages and their URLs (history routing: the node answers every unknown path with index.html).
 * Pure: parse a path into a Route and back, so links and tests share one table.
 */

export type Route =
  | { readonly page: 'home' }
  | { readonly page: 'patient' }
  | { readonly page: 'doctor' }
  | { readonly page: 'hospital' }
  | { readonly page: 'identities' }
  | { readonly page: 'explorer' }
  | { readonly page: 'block'; readonly id: string }
  | { readonly page: 'tx'; readonly id: string }
  | { readonly page: 'account'; readonly id: string }
  | { readonly page: 'record'; readonly id: string }
  | { readonly page: 'validators' }
  | { readonly page: 'search'; readonly query: string }
  | { readonly page: 'notFound'; readonly path: string };

export type PageName = Route['page'];

const HEX64 = /^[0-9a-f]{64}$/;
const BLOCK_ID = /^(\d{1,10}|[0-9a-f]{64})$/;

/** The route of a URL path and query string; anything unknown or malformed is notFound. */
export function parseRoute(pathname: string, search = ''): Route {
  const parts = pathname.split('/').filter((p) => p !== '');
  const [first, second, third] = parts.map((p) => safeDecode(p));
  const notFound: Route = { page: 'notFound', path: pathname };
  if (parts.length === 0) return { page: 'home' };
  if (parts.length === 1) {
    switch (first) {
      case 'patient':
      case 'doctor':
      case 'hospital':
      case 'explorer':
        return { page: first };
      case 'keys':
        return { page: 'identities' };
      default:
        return notFound;
    }
  }
  if (first !== 'explorer' || parts.length > 3) return notFound;
  if (parts.length === 2) {
    if (second === 'validators') return { page: 'validators' };
    if (second === 'search') return { page: 'search', query: new URLSearchParams(search).get('q') ?? '' };
    return notFound;
  }
  const id = (third ?? '').toLowerCase();
  switch (second) {
    case 'blocks':
      return BLOCK_ID.test(id) ? { page: 'block', id } : notFound;
    case 'tx':
      return HEX64.test(id) ? { page: 'tx', id } : notFound;
    case 'accounts':
      return HEX64.test(id) ? { page: 'account', id } : notFound;
    case 'records':
      return HEX64.test(id) ? { page: 'record', id } : notFound;
    default:
      return notFound;
  }
}

/** The URL of a route. */
export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'home':
      return '/';
    case 'identities':
      return '/keys';
    case 'patient':
    case 'doctor':
    case 'hospital':
    case 'explorer':
      return `/${route.page}`;
    case 'validators':
      return '/explorer/validators';
    case 'search':
      return `/explorer/search?q=${encodeURIComponent(route.query)}`;
    case 'block':
      return `/explorer/blocks/${route.id}`;
    case 'tx':
      return `/explorer/tx/${route.id}`;
    case 'account':
      return `/explorer/accounts/${route.id}`;
    case 'record':
      return `/explorer/records/${route.id}`;
    case 'notFound':
      return route.path;
  }
}

/** The top-level section a route belongs to, for the navigation's current item. */
export function sectionOf(route: Route): 'home' | 'patient' | 'doctor' | 'hospital' | 'identities' | 'explorer' | null {
  switch (route.page) {
    case 'home':
    case 'patient':
    case 'doctor':
    case 'hospital':
    case 'identities':
      return route.page;
    case 'notFound':
      return null;
    default:
      return 'explorer';
  }
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    // A malformed escape is just an unknown path.
    return '\u0000';
  }
}
