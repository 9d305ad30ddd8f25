/** The app: services, layout and the page for the current URL. */
import { Layout } from './components/Layout.tsx';
import { useRoute } from './lib/router.tsx';
import type { Route } from './lib/routes.ts';
import { ServicesContext, type Services } from './lib/services.ts';
import { DoctorDashboard, HospitalDashboard, PatientDashboard } from './pages/dashboards/Dashboards.tsx';
import { AccountPage } from './pages/explorer/AccountPage.tsx';
import { BlockPage } from './pages/explorer/BlockPage.tsx';
import { ExplorerHome } from './pages/explorer/ExplorerHome.tsx';
import { RecordPage } from './pages/explorer/RecordPage.tsx';
import { SearchPage } from './pages/explorer/SearchPage.tsx';
import { TxPage } from './pages/explorer/TxPage.tsx';
import { ValidatorsPage } from './pages/explorer/ValidatorsPage.tsx';
import { HomePage, NotFoundPage } from './pages/HomePage.tsx';
import { IdentitiesPage } from './pages/identity/IdentitiesPage.tsx';

function PageFor({ route }: { route: Route }) {
  switch (route.page) {
    case 'home':
      return <HomePage />;
    case 'patient':
      return <PatientDashboard />;
    case 'doctor':
      return <DoctorDashboard />;
    case 'hospital':
      return <HospitalDashboard />;
    case 'identities':
      return <IdentitiesPage />;
    case 'explorer':
      return <ExplorerHome />;
    case 'block':
      return <BlockPage id={route.id} key={route.id} />;
    case 'tx':
      return <TxPage id={route.id} key={route.id} />;
    case 'account':
      return <AccountPage id={route.id} key={route.id} />;
    case 'record':
      return <RecordPage id={route.id} key={route.id} />;
    case 'validators':
      return <ValidatorsPage />;
    case 'search':
      return <SearchPage query={route.query} key={route.query} />;
    case 'notFound':
      return <NotFoundPage path={route.path} />;
  }
}

export function App({ services }: { services: Services }) {
  const route = useRoute();
  return (
    <ServicesContext value={services}>
      <Layout route={route}>
        <PageFor route={route} />
      </Layout>
    </ServicesContext>
  );
}
