// Replica-set bootstrap, run by mongosh (--nodb) in member 0's pod. Idempotent: every step checks first.
// 1. Not initiated: initiate a set of this member alone (it becomes primary at once).
// 2. No users yet: create the root user through the localhost exception (needs this member to be primary).
// 3. As root, through the whole set: create or update the services' user, then add each configured member
//    that is missing, one per reconfig (MongoDB allows one voting-member change at a time).
// Passwords come from the environment (Secret), never from the command line, and are never printed.
const env = process.env;
const members = env.RS_MEMBERS.split(",");
const self = members[0];

function waitFor(what, check, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      if (check()) return;
    } catch (e) {
      // not yet: the server is starting, electing or syncing
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    sleep(1000);
  }
}

function tryAuth(admin) {
  try {
    return admin.auth(env.ROOT_USER, env.ROOT_PASSWORD).ok === 1;
  } catch (e) {
    return false;
  }
}

const local = new Mongo("mongodb://127.0.0.1:27017/?directConnection=true").getDB("admin");
waitFor("local mongod", () => local.runCommand({ ping: 1 }).ok === 1, 120);

if (!local.runCommand({ hello: 1 }).setName) {
  const res = local.runCommand({ replSetInitiate: { _id: env.RS_NAME, members: [{ _id: 0, host: self }] } });
  if (res.ok !== 1 && res.codeName !== "AlreadyInitialized") {
    throw new Error(`replSetInitiate failed: ${res.codeName}: ${res.errmsg}`);
  }
  print(`initiated replica set ${env.RS_NAME} with ${self}`);
}

if (!tryAuth(local)) {
  waitFor("this member to become primary", () => local.runCommand({ hello: 1 }).isWritablePrimary === true, 120);
  const res = local.runCommand({
    createUser: env.ROOT_USER,
    pwd: env.ROOT_PASSWORD,
    roles: [{ role: "root", db: "admin" }],
  });
  if (res.ok !== 1) {
    throw new Error(
      `cannot create ${env.ROOT_USER} (${res.codeName}): users exist but the Secret's root password does not ` +
        "match them (a Secret regenerated over old PVCs?)",
    );
  }
  print(`created user ${env.ROOT_USER}`);
  if (!tryAuth(local)) throw new Error(`cannot authenticate as ${env.ROOT_USER} after creating it`);
}

const known = local.runCommand({ replSetGetConfig: 1 }).config.members.map((m) => m.host);
const set = new Mongo(`mongodb://${known.join(",")}/?replicaSet=${env.RS_NAME}`).getDB("admin");
if (!tryAuth(set)) throw new Error(`cannot authenticate to the replica set as ${env.ROOT_USER}`);

const appRoles = [{ role: "readWrite", db: env.APP_DB }];
if (set.getUser(env.APP_USER)) {
  set.updateUser(env.APP_USER, { pwd: env.APP_PASSWORD, roles: appRoles });
} else {
  set.createUser({ user: env.APP_USER, pwd: env.APP_PASSWORD, roles: appRoles });
  print(`created user ${env.APP_USER}`);
}

for (const host of members) {
  const config = set.runCommand({ replSetGetConfig: 1 }).config;
  if (config.members.some((m) => m.host === host)) continue;
  config.version += 1;
  config.members.push({ _id: Math.max(...config.members.map((m) => m._id)) + 1, host: host });
  const res = set.runCommand({ replSetReconfig: config });
  if (res.ok !== 1) throw new Error(`adding ${host} failed: ${res.codeName}: ${res.errmsg}`);
  print(`added member ${host}`);
}
print(`replica set ${env.RS_NAME} has ${members.length} configured member(s)`);
