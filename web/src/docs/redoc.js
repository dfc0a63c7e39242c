// ReDoc at /redoc from the redoc npm package's standalone bundle, emitted as a hashed asset of
// our own (a UMD script that sets window.Redoc; Vite does not bundle it as a module): nothing
// is loaded from another host.
import standalone from 'redoc/bundles/redoc.standalone.js?url';

const script = document.createElement('script');
script.src = standalone;
script.onload = () => {
  window.Redoc.init(
    '/openapi.json',
    { hideDownloadButton: false, expandResponses: '200,201' },
    document.getElementById('redoc'),
    () => {
      document.body.dataset.ready = 'true';
    },
  );
};
document.head.append(script);
