import { createRoot } from "react-dom/client";
import { SupportChat } from "./App.jsx";

createRoot(document.getElementById("root")).render(<SupportChat />);
