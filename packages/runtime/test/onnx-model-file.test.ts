import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { buildLlamaFixture, type LlamaFixture } from "../src/fixture/index.js";
import {
	DataType,
	decodeOnnxModel,
	encodeOnnxModel,
	externalDataInfo,
	externalDataLocations,
	float16ToFloat32,
	float32ToFloat16,
	makeTensor,
	readExternalTensor,
	readOnnxModel,
	tensorToArray,
	writeOnnxModel,
} from "../src/onnx/index.js";
import { decoderFeeds, tempDir } from "./graph-test-helpers.js";

describe("readOnnxModel / writeOnnxModel", () => {
	let fixture: LlamaFixture;
	beforeAll(async () => {
		fixture = await buildLlamaFixture({
			dir: await tempDir("onnx-io"),
			layers: 2,
			hidden: 64,
			heads: 4,
			kvHeads: 2,
			intermediate: 96,
			seed: 11,
		});
	});

	it("should read the graph and leave external weights on disk", async () => {
		const path = join(fixture.dir, "model.onnx");
		const model = await readOnnxModel(path);
		expect((await stat(path)).size).toBeLessThan(100_000);
		expect(model.opsetImport?.[0]?.version).toBe(17);
		const embed = model.graph!.initializer!.find((t) => t.name === "model.embed_tokens.weight")!;
		expect(embed.dims).toEqual([512, 64]);
		expect(externalDataInfo(embed)).toMatchObject({ location: "model.onnx_data" });
		expect(embed.rawData ?? new Uint8Array(0)).toHaveLength(0);
		expect(externalDataLocations(model)).toEqual(["model.onnx_data"]);
		// One weight can be read without loading the others.
		const values = await readExternalTensor(embed, fixture.dir);
		expect(Array.from(values as Float32Array)).toEqual(Array.from(fixture.weights.get("model.embed_tokens.weight")!));
		const small = model.graph!.initializer!.find((t) => t.name === "/model/const_q_shape")!;
		expect(Array.from(tensorToArray(small) as BigInt64Array, Number)).toEqual([0, 0, 4, 16]);
	});

	it("should write an edited graph elsewhere, linking the external data instead of rewriting it", async () => {
		const model = await readOnnxModel(join(fixture.dir, "model.onnx"));
		model.graph!.output!.push({ name: "/model/layers.0/Add_1_output_0" });
		const target = await tempDir("onnx-io-out");
		await writeOnnxModel(model, join(target, "edited.onnx"), { sourceDir: fixture.dir });
		const [from, to] = await Promise.all([
			stat(join(fixture.dir, "model.onnx_data")),
			stat(join(target, "model.onnx_data")),
		]);
		expect(to.ino).toBe(from.ino);
		const session = await ort.InferenceSession.create(join(target, "edited.onnx"));
		expect(session.outputNames).toContain("/model/layers.0/Add_1_output_0");
		const feeds = decoderFeeds({
			arch: fixture.arch,
			inputIds: [[1, 2, 3]],
			attentionMask: [[1, 1, 1]],
			positionIds: [[0, 1, 2]],
		});
		const original = await ort.InferenceSession.create(join(fixture.dir, "model.onnx"));
		const [a, b] = [await session.run(feeds), await original.run(feeds)];
		expect(Array.from(a.logits!.data as Float32Array)).toEqual(Array.from(b.logits!.data as Float32Array));
		expect(a["/model/layers.0/Add_1_output_0"]!.dims).toEqual([1, 3, 64]);
	});

	it("should refuse to clobber a different data file and name a missing one", async () => {
		const model = await readOnnxModel(join(fixture.dir, "model.onnx"));
		const target = await tempDir("onnx-io-clash");
		await writeFile(join(target, "model.onnx_data"), "other weights");
		await expect(writeOnnxModel(model, join(target, "m.onnx"), { sourceDir: fixture.dir })).rejects.toThrow(
			/exists and is not the external data/,
		);
		const empty = await tempDir("onnx-io-empty");
		await expect(
			writeOnnxModel(model, join(await tempDir("onnx-io-x"), "m.onnx"), { sourceDir: empty }),
		).rejects.toThrow(/external data file referenced by the model is missing/);
	});

	it("should round-trip models without external data and externalize on request", async () => {
		const model = await readOnnxModel(join(fixture.dir, "model.onnx"));
		const bytes = encodeOnnxModel(model);
		const again = decodeOnnxModel(bytes);
		expect(again.graph!.node!.map((n) => n.name)).toEqual(model.graph!.node!.map((n) => n.name));
		const inMemory = {
			...model,
			graph: {
				...model.graph!,
				initializer: [
					makeTensor({ name: "w", dataType: DataType.FLOAT, dims: [2, 1024], data: new Float32Array(2048).fill(0.25) }),
				],
			},
		};
		const dir = await tempDir("onnx-io-ext");
		await writeOnnxModel(inMemory, join(dir, "x.onnx"), { externalData: { location: "x.onnx_data" } });
		expect((await stat(join(dir, "x.onnx_data"))).size).toBe(8192);
		const read = await readOnnxModel(join(dir, "x.onnx"));
		const tensor = read.graph!.initializer![0]!;
		expect(externalDataInfo(tensor)).toEqual({ location: "x.onnx_data", offset: 0, length: 8192 });
		expect(Array.from((await readExternalTensor(tensor, dir)) as Float32Array).every((v) => v === 0.25)).toBe(true);
		// The caller's in-memory model keeps its bytes.
		expect(inMemory.graph.initializer[0]!.rawData!.byteLength).toBe(8192);
	});

	it("should report files that are not ONNX models and unsafe external locations", async () => {
		const dir = await tempDir("onnx-io-bad");
		await writeFile(join(dir, "bad.onnx"), "this is not a protobuf \u0000\u00ff\u00ff\u00ff");
		await expect(readOnnxModel(join(dir, "bad.onnx"))).rejects.toThrow(/bad\.onnx/);
		await expect(readOnnxModel(join(dir, "missing.onnx"))).rejects.toThrow(/missing\.onnx: cannot read ONNX model/);
		const tensor = {
			name: "w",
			dataType: 1,
			dims: [1],
			dataLocation: 1,
			externalData: [{ key: "location", value: "../secret.bin" }],
		};
		expect(() => externalDataInfo(tensor)).toThrow(/must stay inside the model directory/);
	});
});

describe("float16 conversion", () => {
	it("should round to nearest even and keep the representable range", () => {
		const values = Float32Array.from([0, 1, -2.5, 65504, 70000, 1e-8, 5.960464477539063e-8, 0.1, -0.000061035156]);
		const half = float32ToFloat16(values);
		expect(Array.from(half.slice(0, 5))).toEqual([0x0000, 0x3c00, 0xc100, 0x7bff, 0x7c00]);
		const back = float16ToFloat32(half);
		expect(back[5]).toBe(0);
		expect(back[6]).toBeCloseTo(5.960464477539063e-8, 12);
		expect(back[7]).toBeCloseTo(0.0999755859375, 10);
		expect(back[8]).toBeCloseTo(-0.000061035156, 9);
	});
});
