// /static/chatkitd.js: chatkitd's chat as an ES module (`import` it, or load it with
// <script type="module">). It defines the same elements as /static/chatkit.js.

export { ChatkitdChat, OpenAIChatKit } from "../chat/element.js";
