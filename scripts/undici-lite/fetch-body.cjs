/* global module */
'use strict'
// lib/web/fetch/body.js as the bundled undici sees it
// (scripts/bundle-fast-path.mjs). undici's HTTP/1.1 client loads it only to send
// a FormData request body, which the tool never sends; it would bring about 80
// KB of the fetch API's source (WebIDL, FormData, data: URLs) into the bundle.
module.exports = {
  extractBody() {
    throw new Error('undici-lite: FormData request bodies are not bundled')
  },
}
