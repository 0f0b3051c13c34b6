import { existsSync, readFileSync } from "node:fs";
import { defineConfig } from "vitepress";
import type { DefaultTheme } from "vitepress";
import { repoLinks } from "./repo-links.js";

// Written by docs/generate (pnpm docs:build runs it first): the packages found in packages/ and TypeDoc's sidebar.
const readJson = <T>(url: URL, fallback: T): T => (existsSync(url) ? (JSON.parse(readFileSync(url, "utf8")) as T) : fallback);
const packages = readJson<{ name: string; dir: string }[]>(new URL("./packages.json", import.meta.url), []);
const apiSidebar = readJson<DefaultTheme.SidebarItem[]>(new URL("../api/typedoc-sidebar.json", import.meta.url), []);

const recipes: [string, string][] = [
	["Thai end to end", "thai-end-to-end"],
	["Llama-3 + Arabic, no vocabulary extension", "llama3-arabic-fertility"],
	["Dedup a web crawl on several machines", "dedup-several-machines"],
	["Recovery KD against a vLLM endpoint", "recovery-kd-vllm"],
	["TCOT data for three languages", "tcot-three-languages"],
	["PROM probe: what λ means", "prom-probe"],
	["CLO pairs and the CLO loss", "clo"],
	["Train it: TRL stages, merge, export", "train"],
	["Export the trained model and serve it", "export-and-serve"],
	["Serve the model", "serve"],
	["Evaluate it: judge, safety, forgetting", "evaluate"],
];

export default defineConfig({
	title: "transllm",
	description: "Turn an English chat LLM into a strong chat model in another language: TransLLM, LLaMAX, PROM and CLO as composable npm packages and one CLI.",
	// The site is plain files: any static host serves docs/.vitepress/dist (relative asset paths would break
	// nested pages, so a host at a sub-path sets DOCS_BASE, e.g. DOCS_BASE=/transllm/).
	base: process.env.DOCS_BASE ?? "/",
	cleanUrls: false,
	lastUpdated: false,
	srcExclude: ["generate/**", "test/**", "node_modules/**", "**/README.md"],
	// A dead internal link fails the build (the doc tests rely on this).
	ignoreDeadLinks: false,
	appearance: true,
	head: [["link", { rel: "icon", type: "image/svg+xml", href: `${process.env.DOCS_BASE ?? "/"}favicon.svg` }]],
	vite: { build: { chunkSizeWarningLimit: 4096 } },
	markdown: { theme: { light: "github-light", dark: "github-dark" }, config: (md) => md.use(repoLinks(packages)) },
	themeConfig: {
		search: { provider: "local" },
		nav: [
			{ text: "Guide", link: "/pipeline" },
			{ text: "Recipes", link: "/recipes/" },
			{ text: "Packages", link: "/packages/" },
			{ text: "CLI", link: "/cli" },
			{ text: "API", link: "/api/" },
		],
		sidebar: {
			"/api/": [{ text: "API reference", link: "/api/", items: apiSidebar }],
			"/": [
				{
					text: "Guide",
					items: [
						{ text: "Getting started", link: "/getting-started" },
						{ text: "The pipeline", link: "/pipeline" },
						{ text: "Publishing and install size", link: "/publishing" },
						{ text: "Contributing", link: "/CONTRIBUTING" },
					],
				},
				{ text: "Recipes", link: "/recipes/", items: recipes.map(([text, slug]) => ({ text, link: `/recipes/${slug}` })) },
				{ text: "Packages", link: "/packages/", items: packages.map(({ name, dir }) => ({ text: name, link: `/packages/${dir}` })) },
				{ text: "Reference", items: [{ text: "CLI", link: "/cli" }, { text: "API", link: "/api/" }] },
			],
		},
		outline: { level: [2, 3] },
		footer: { message: "Apache-2.0. Built with VitePress; the API and CLI references are generated from the code." },
	},
});
