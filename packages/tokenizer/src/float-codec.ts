import { ConfigError } from "@transllm/core";

/** Embedding dtypes the resize reads and writes. */
export type FloatDtype = "F32" | "F16" | "BF16";

export function assertFloatDtype(dtype: string, tensor: string): asserts dtype is FloatDtype {
	if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16") throw new ConfigError(`${tensor}: dtype ${dtype} is not F32, F16 or BF16`);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function halfToFloat(h: number): number {
	const sign = h & 0x8000 ? -1 : 1;
	const exponent = (h >> 10) & 0x1f;
	const fraction = h & 0x3ff;
	if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
	if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
	return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function floatToHalf(value: number): number {
	f32[0] = value;
	const x = u32[0] as number;
	const sign = (x >>> 16) & 0x8000;
	const exponent = (x >>> 23) & 0xff;
	let mantissa = x & 0x7fffff;
	if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
	let e = exponent - 127 + 15;
	if (e >= 31) return sign | 0x7c00;
	if (e <= 0) {
		if (e < -10) return sign;
		mantissa |= 0x800000;
		const shift = 14 - e;
		let half = mantissa >> shift;
		const rest = mantissa & ((1 << shift) - 1);
		const halfway = 1 << (shift - 1);
		if (rest > halfway || (rest === halfway && half & 1)) half += 1;
		return sign | half;
	}
	let half = (e << 10) | (mantissa >> 13);
	const rest = mantissa & 0x1fff;
	if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1;
	return sign | half;
}

/** Decodes little-endian rows of `dtype` into float32. */
export function decodeFloats(bytes: Uint8Array, dtype: FloatDtype): Float32Array {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const width = dtype === "F32" ? 4 : 2;
	const out = new Float32Array(bytes.byteLength / width);
	for (let i = 0; i < out.length; i++) {
		if (dtype === "F32") out[i] = view.getFloat32(i * 4, true);
		else if (dtype === "F16") out[i] = halfToFloat(view.getUint16(i * 2, true));
		else {
			u32[0] = view.getUint16(i * 2, true) << 16;
			out[i] = f32[0] as number;
		}
	}
	return out;
}

/** Encodes float32 values as little-endian `dtype` (round to nearest even for F16 and BF16). */
export function encodeFloats(values: Float32Array, dtype: FloatDtype): Uint8Array {
	const width = dtype === "F32" ? 4 : 2;
	const out = new Uint8Array(values.length * width);
	const view = new DataView(out.buffer);
	for (let i = 0; i < values.length; i++) {
		const value = values[i] as number;
		if (dtype === "F32") view.setFloat32(i * 4, value, true);
		else if (dtype === "F16") view.setUint16(i * 2, floatToHalf(value), true);
		else {
			f32[0] = value;
			const x = u32[0] as number;
			const rounded = Number.isNaN(value) ? 0x7fc0 : ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
			view.setUint16(i * 2, rounded, true);
		}
	}
	return out;
}
