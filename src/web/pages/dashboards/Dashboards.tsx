/**
 * The patient, doctor and hospital dashboards (one file each); see src/web/README.md for how they are built.
 */
export { DoctorDashboard } from './DoctorDashboard.tsx';
export { HospitalDashboard } from './HospitalDashboard.tsx';
export { PatientDashboard } from './PatientDashboard.tsx';
