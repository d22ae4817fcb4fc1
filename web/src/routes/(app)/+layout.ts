// The signed-in app renders in the browser: its data comes from the API with the session cookie.
export const ssr = false;
