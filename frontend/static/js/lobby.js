// Entry point of the browser client (loaded as a module by templates/lobby.html).
// Everything from a server is inserted as text; see app.js for how the pieces fit.

import { App } from "./app.js";

const app = new App();
window.felt = app; // for the curious, and for the browser tests' diagnostics
app.start();
