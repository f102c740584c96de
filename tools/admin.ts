/**
 * `npm run admin -- <command>`: user administration from the command line, for the first admin (there
 * is nobody yet who could create one in the dashboard) and for getting back in.
 *
 *   create <name> [--role admin|editor|viewer]   a user; the first one must be an admin. Refused when an
 *                                                admin already exists and no --role is given (use /settings).
 *   password <name>                              set a new password (ends that user's sessions)
 *   list                                         users and their roles
 *
 * The password is never a default and never an argument (it would land in the shell history): it comes
 * from SPECLENS_BOOTSTRAP_ADMIN_PASSWORD, or is read from standard input (asked twice on a terminal).
 */
import readline from "node:readline";
import { isKeyRole } from "../app/_lib/security/config";
import { openDatabase, resolveDatabasePath } from "../db/client";
import { countActiveAdmins, findUserByName, insertUser, listUsers, updateUser } from "../db/queries/auth";
import { hashPasswordSync, passwordProblem } from "../db/queries/passwords";

function fail(message: string): never {
  console.error(`admin: ${message}`);
  process.exit(2);
}

async function readPassword(): Promise<string> {
  const fromEnv = process.env.SPECLENS_BOOTSTRAP_ADMIN_PASSWORD;
  if (fromEnv) return fromEnv;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (prompt: string) => {
    if (process.stdin.isTTY) process.stdout.write(prompt);
    const next = await lines.next();
    return next.done ? "" : String(next.value);
  };
  const first = await ask("password: ");
  if (process.stdin.isTTY && (await ask("again: ")) !== first) fail("the two passwords differ");
  rl.close();
  return first;
}

async function main(): Promise<void> {
  const [command, name, ...rest] = process.argv.slice(2);
  const { db, sqlite, path } = openDatabase(resolveDatabasePath());
  try {
    if (command === "list") {
      for (const u of listUsers(db)) console.log(`${u.name}\t${u.role}${u.disabled ? "\tdisabled" : ""}`);
      return;
    }
    if (!name) fail("usage: npm run admin -- create <name> [--role admin|editor|viewer] | password <name> | list");
    if (command === "create") {
      const roleIndex = rest.indexOf("--role");
      const role = roleIndex >= 0 ? rest[roleIndex + 1] : "admin";
      if (!isKeyRole(role) || role === "ingest") fail(`--role: expected admin, editor or viewer, got ${role}`);
      const admins = countActiveAdmins(db);
      if (admins === 0 && role !== "admin") fail("the first user must be an admin");
      if (admins > 0 && roleIndex < 0) fail("an admin already exists: create further users on /settings (or pass --role)");
      if (findUserByName(db, name)) fail(`a user named ${name} exists`);
      const password = await readPassword();
      const problem = passwordProblem(password);
      if (problem) fail(problem);
      insertUser(db, { name, role, passwordHash: hashPasswordSync(password), createdBy: "cli" });
      console.log(`created ${role} ${name} in ${path}; authentication is now on: log in at /login`);
    } else if (command === "password") {
      const user = findUserByName(db, name) ?? fail(`no user named ${name}`);
      const password = await readPassword();
      const problem = passwordProblem(password);
      if (problem) fail(problem);
      updateUser(db, user.id, { passwordHash: hashPasswordSync(password) });
      console.log(`password of ${name} changed; their sessions ended`);
    } else {
      fail(`unknown command ${command}`);
    }
  } finally {
    sqlite.close();
  }
}

void main();
