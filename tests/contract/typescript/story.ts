// The vendor uploads its WBS, the municipality lists what is late on its side and reports one
// item done, the vendor follows the change feed and sees it, the PMO reads the progress report.
// Every call is typed from openapi/openapi.json; the compiler checks them with --strict.
import createClient from "openapi-fetch";
import type { paths } from "./generated/schema.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const baseUrl = env("WBS_BASE_URL");
const projectId = Number(env("WBS_PROJECT_ID"));
const asOf = "2026-04-10";
const as = (token: string) => createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
const vendor = as(env("WBS_TOKEN_VENDOR"));
const town = as(env("WBS_TOKEN_TOWN"));
const pmo = as(env("WBS_TOKEN_PMO"));

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const sheet = [
  "項番,作業項目,担当,開始予定日,終了予定日,進捗率,状況,先行作業",
  "1,データ移行,共同,R8.3.1,R8.4.30,0,作業中,",
  "1-1,現行データ抽出依頼,自治体,R8.3.1,R8.3.31,50%,作業中,",
  "1-2,データ抽出,ベンダー,R8.4.1,4月中旬,0,未着手,1-1",
].join("\r\n");

const uploaded = await vendor.POST("/api/v1/projects/{project_id}/imports", {
  params: { path: { project_id: projectId } },
  body: { file: "", dry_run: false, prune: false },
  bodySerializer: () => {
    const form = new FormData();
    form.append("file", new Blob([sheet], { type: "text/csv" }), "wbs.csv");
    return form;
  },
});
check(uploaded.data !== undefined, `import failed: ${JSON.stringify(uploaded.error)}`);
check(uploaded.data.counts.created === 3, `created ${uploaded.data.counts.created}`);

const start = await vendor.GET("/api/v1/changes", {});
check(start.data !== undefined, "no change feed");
const cursor: string = start.data.next_cursor;

const late = await town.GET("/api/v1/projects/{project_id}/items", {
  params: { path: { project_id: projectId }, query: { overdue: true, responsibility: "municipality", as_of: asOf } },
});
check(late.data !== undefined, "no items");
check(late.data.items.map((item) => item.code).join() === "1-1", `late: ${late.data.items.map((i) => i.code)}`);

const report = await town.GET("/api/v1/projects/{project_id}/reports/overdue", {
  params: { path: { project_id: projectId }, query: { as_of: asOf } },
});
// Reports answer JSON, CSV or XLSX (by Accept or format=): JSON unless asked otherwise.
check(report.data !== undefined && typeof report.data !== "string", "no JSON report");
const first = report.data.rows[0];
check(first !== undefined && first.blocks.map((b) => b.code).join() === "1-2", "1-1 should hold up 1-2");

const done = await town.PATCH("/api/v1/projects/{project_id}/items/{code}", {
  params: { path: { project_id: projectId, code: "1-1" } },
  body: { status: "done", progress: 100 },
});
check(done.data !== undefined && done.data.status === "done", "update failed");

const seen = await vendor.GET("/api/v1/changes", { params: { query: { since: cursor, field: "status" } } });
check(seen.data !== undefined, "no feed");
const change = seen.data.items[0];
check(seen.data.items.length === 1 && change !== undefined, `events: ${seen.data.items.length}`);
check(change.item_code === "1-1" && change.actor.label === "town-a/test", "wrong event");
check(change.changes[0]?.old === "in_progress" && change.changes[0]?.new === "done", "wrong values");

const progress = await pmo.GET("/api/v1/reports/progress", { params: { query: { as_of: asOf } } });
check(progress.data !== undefined && typeof progress.data !== "string", "no JSON progress report");
check(progress.data.overall.items === 2 && progress.data.overall.complete === 1, "wrong progress");

const missing = await vendor.GET("/api/v1/projects/{project_id}", { params: { path: { project_id: 987654 } } });
check(missing.response.status === 404 && missing.data === undefined, "a missing project is a 404 problem");

console.log("story passed");
