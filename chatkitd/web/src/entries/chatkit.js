// /static/chatkit.js: the chat as a classic script, loadable the way ChatKit's docs load
// the CDN's file (<script src=… async> in the head).

import "../chat/element.js";
