// /api/docs: Swagger UI (static/vendor/swagger-ui) showing the API's
// OpenAPI document. A file of its own because the Content-Security-Policy
// allows no inline script.
window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#api-docs',
  deepLinking: true,
  // No badge from validator.swagger.io: the page talks to this origin only.
  validatorUrl: null,
  // "Try it out" sends the browser's session cookie on /api/… and /auth/…;
  // same-origin requests, as the CSP's connect-src 'self' allows.
  withCredentials: true,
  // Swagger UI's server choice is a <select> whose <label> holds no text:
  // named here, so that a screen reader says what it chooses.
  onComplete: () => document.querySelector('.swagger-ui select#servers')?.setAttribute('aria-label', 'Server'),
});
