// Applies a thread.item.updated `update` to the item it names, returning a new item.
//
// Mirrors what chatkit's server does to its pending items, so the page's copy of an
// item matches what the store saves when the stream finishes or is cancelled.

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

/** Replace (or, for value deltas, extend) the widget component with this id, anywhere in the tree. */
function patchComponent(node, id, patch) {
  if (!node || typeof node !== "object") return node;
  if (node.id === id) return patch(node);
  if (Array.isArray(node.children)) node.children = node.children.map((child) => patchComponent(child, id, patch));
  else if (node.children && typeof node.children === "object") node.children = patchComponent(node.children, id, patch);
  return node;
}

export function applyUpdate(item, update) {
  const next = clone(item);
  const content = next.content || (next.content = []);
  const part = (i) => content[i] || (content[i] = { type: "output_text", text: "", annotations: [] });
  switch (update.type) {
    case "assistant_message.content_part.added":
      content[update.content_index] = update.content;
      break;
    case "assistant_message.content_part.text_delta":
      part(update.content_index).text += update.delta;
      break;
    case "assistant_message.content_part.annotation_added": {
      const p = part(update.content_index);
      p.annotations = p.annotations || [];
      p.annotations[update.annotation_index] = update.annotation;
      break;
    }
    case "assistant_message.content_part.done":
      content[update.content_index] = update.content;
      break;
    case "widget.root.updated":
      next.widget = update.widget;
      break;
    case "widget.component.updated":
      next.widget = patchComponent(next.widget, update.component_id, () => update.component);
      break;
    case "widget.streaming_text.value_delta":
      next.widget = patchComponent(next.widget, update.component_id, (node) => ({ ...node, value: (node.value || "") + update.delta, streaming: !update.done }));
      break;
    case "workflow.task.added":
    case "workflow.task.updated": {
      next.workflow = next.workflow || { type: "custom", tasks: [] };
      next.workflow.tasks = next.workflow.tasks || [];
      next.workflow.tasks[update.task_index] = update.task;
      break;
    }
    case "generated_image.updated":
      next.image = update.image;
      break;
    default:
      break;
  }
  if (!next.content.length && item.type !== "assistant_message") delete next.content;
  return next;
}
