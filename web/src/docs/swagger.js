// Swagger UI at /docs, bundled from the swagger-ui-dist npm package: nothing is loaded from
// another host (the page runs under the same Content-Security-Policy as the map).
import SwaggerUIBundle from 'swagger-ui-dist/swagger-ui-es-bundle.js';
import 'swagger-ui-dist/swagger-ui.css';

window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // no validator.swagger.io badge: it would send the document to another host
  validatorUrl: null,
  onComplete: () => {
    document.body.dataset.ready = 'true';
  },
});
