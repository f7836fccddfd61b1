/** The dashboard: one static page (dashboard.html, plain HTML and JavaScript, no build step) that polls the REST API. */
import { readFileSync } from 'node:fs';

export const DASHBOARD_PAGE = readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8');
