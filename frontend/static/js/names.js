// Friendly table names: "Maple Room" instead of "g1-0007". Worked out from the table id alone (a hash into
// two word lists), so every browser calls a table the same; the id stays in the page for reference.

const FIRST = ["Amber", "Birch", "Cedar", "Copper", "Coral", "Dune", "Elm", "Fern", "Flint", "Garnet", "Hazel",
  "Indigo", "Ivory", "Jade", "Juniper", "Lark", "Linden", "Maple", "Marble", "Meadow", "Moss", "Oak", "Olive",
  "Onyx", "Pearl", "Pine", "Quartz", "Raven", "Saffron", "Slate", "Willow", "Wren"];
const SECOND = ["Room", "Parlour", "Lounge", "Table", "Corner", "Den", "Hall", "Salon"];

function hash(text) {
  let value = 2166136261; // FNV-1a, 32 bits
  for (let i = 0; i < text.length; i += 1) {
    value ^= text.charCodeAt(i);
    value = Math.imul(value, 16777619) >>> 0;
  }
  return value;
}

/** "Maple Room" for a table id. */
export function tableName(id) {
  if (!id) return "Table";
  const n = hash(String(id));
  return `${FIRST[n % FIRST.length]} ${SECOND[Math.floor(n / FIRST.length) % SECOND.length]}`;
}
