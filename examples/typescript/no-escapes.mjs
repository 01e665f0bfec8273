// Fails when the TypeScript sources use an escape hatch from the generated
// types: a cast (`x as T`, `<T>x`), a non-null assertion (`x!`), `any`, a
// hand-written type guard (`x is T`, `asserts x`), a ts-ignore/expect-error/
// nocheck comment, or a raw `fetch(...)` instead of the generated client.
// Walks the syntax tree with the TypeScript compiler itself.
//   node no-escapes.mjs journey.ts totp.ts
import { readFileSync } from "node:fs";
import ts from "typescript";

const found = [];
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const where = (node) => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    return `${file}:${line + 1}`;
  };
  for (const m of text.matchAll(/@ts-(ignore|expect-error|nocheck)/g)) {
    const { line } = source.getLineAndCharacterOfPosition(m.index);
    found.push(`${file}:${line + 1}: @ts-${m[1]}`);
  }
  const visit = (node) => {
    if (ts.isAsExpression(node) && !(ts.isTypeReferenceNode(node.type) && node.type.typeName.getText(source) === "const")) {
      found.push(`${where(node)}: cast \`${node.getText(source)}\``);
    } else if (ts.isTypeAssertionExpression(node)) {
      found.push(`${where(node)}: cast \`${node.getText(source)}\``);
    } else if (ts.isNonNullExpression(node)) {
      found.push(`${where(node)}: non-null assertion \`${node.getText(source)}\``);
    } else if (node.kind === ts.SyntaxKind.AnyKeyword) {
      found.push(`${where(node)}: \`any\``);
    } else if (ts.isTypePredicateNode(node)) {
      found.push(`${where(node)}: type guard \`${node.getText(source)}\``);
    } else if (ts.isCallExpression(node) && node.expression.getText(source).replace(/^globalThis\./, "") === "fetch") {
      found.push(`${where(node)}: raw fetch \`${node.getText(source).slice(0, 60)}\``);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
for (const line of found) {
  console.log(line);
}
process.exitCode = found.length > 0 ? 1 : 0;
