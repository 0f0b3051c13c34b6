import { DataType, type OnnxTensor, dataTypeName, dataTypeSize, toInt } from "./onnx-proto.js";

/** Typed arrays that map one to one onto ONNX tensor element types. */
export type TensorArray =
	Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array | Int16Array;

function bytesOf(array: TensorArray): Uint8Array {
	return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/**
 * A TensorProto holding `data` as little-endian raw_data (the layout onnx.numpy_helper writes). Int64 values
 * may be given as plain numbers. The bytes are shared with `data`, not copied.
 */
export function makeTensor(params: {
	name: string;
	dataType: number;
	dims: readonly number[];
	data: TensorArray | readonly number[];
}): OnnxTensor {
	const { name, dataType, dims } = params;
	let data = params.data;
	if (Array.isArray(data)) {
		const values = data as readonly number[];
		if (dataType === DataType.INT64) data = BigInt64Array.from(values, (v) => BigInt(v));
		else if (dataType === DataType.FLOAT) data = Float32Array.from(values);
		else if (dataType === DataType.INT32) data = Int32Array.from(values);
		else if (dataType === DataType.DOUBLE) data = Float64Array.from(values);
		else if (dataType === DataType.BOOL || dataType === DataType.UINT8) data = Uint8Array.from(values);
		else throw new RangeError(`makeTensor: give ${dataTypeName(dataType)} data as a typed array`);
	}
	const array = data as TensorArray;
	const count = dims.reduce((a, b) => a * b, 1);
	if (array.byteLength !== count * dataTypeSize(dataType)) {
		throw new RangeError(
			`makeTensor ${name}: ${array.byteLength} bytes do not fill dims [${dims.join(", ")}] of ${dataTypeName(dataType)}`,
		);
	}
	return { name, dataType, dims: [...dims], rawData: bytesOf(array) };
}

/** The element count of a tensor from its dims. */
export function tensorSize(tensor: OnnxTensor): number {
	return (tensor.dims ?? []).reduce<number>((a, b) => a * toInt(b), 1);
}

/**
 * The values of an in-memory tensor as a typed array (raw_data or the typed repeated fields). External
 * tensors are read with `readExternalTensor` instead, so that a graph edit never touches the weights.
 */
export function tensorToArray(tensor: OnnxTensor): TensorArray {
	const dataType = tensor.dataType ?? 0;
	const count = tensorSize(tensor);
	if (tensor.dataLocation === 1) {
		throw new RangeError(`tensor ${tensor.name ?? ""} is stored as external data; read it with readExternalTensor`);
	}
	const raw = tensor.rawData;
	if (raw && raw.byteLength > 0) return arrayFromBytes(raw, dataType, count, tensor.name ?? "");
	switch (dataType) {
		case DataType.FLOAT:
			return Float32Array.from(tensor.floatData ?? []);
		case DataType.DOUBLE:
			return Float64Array.from(tensor.doubleData ?? []);
		case DataType.INT64:
			return BigInt64Array.from((tensor.int64Data ?? []).map((v) => BigInt(toInt(v))));
		case DataType.INT32:
			return Int32Array.from(tensor.int32Data ?? []);
		case DataType.INT8:
			return Int8Array.from(tensor.int32Data ?? []);
		case DataType.INT16:
			return Int16Array.from(tensor.int32Data ?? []);
		case DataType.BOOL:
		case DataType.UINT8:
			return Uint8Array.from(tensor.int32Data ?? []);
		case DataType.FLOAT16:
		case DataType.BFLOAT16:
		case DataType.UINT16:
			return Uint16Array.from(tensor.int32Data ?? []);
		default:
			throw new RangeError(`tensor ${tensor.name ?? ""}: ${dataTypeName(dataType)} is not supported here`);
	}
}

/** Views little-endian bytes as the typed array of `dataType` (copying only when unaligned). */
export function arrayFromBytes(bytes: Uint8Array, dataType: number, count: number, name = ""): TensorArray {
	const size = dataTypeSize(dataType);
	if (bytes.byteLength !== count * size) {
		throw new RangeError(
			`tensor ${name}: ${bytes.byteLength} bytes for ${count} elements of ${dataTypeName(dataType)}`,
		);
	}
	const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes); // a copy starts at offset 0
	const { buffer, byteOffset } = aligned;
	switch (dataType) {
		case DataType.FLOAT:
			return new Float32Array(buffer, byteOffset, count);
		case DataType.DOUBLE:
			return new Float64Array(buffer, byteOffset, count);
		case DataType.INT64:
			return new BigInt64Array(buffer, byteOffset, count);
		case DataType.INT32:
			return new Int32Array(buffer, byteOffset, count);
		case DataType.INT8:
			return new Int8Array(buffer, byteOffset, count);
		case DataType.INT16:
			return new Int16Array(buffer, byteOffset, count);
		case DataType.BOOL:
		case DataType.UINT8:
			return new Uint8Array(buffer, byteOffset, count);
		case DataType.FLOAT16:
		case DataType.BFLOAT16:
		case DataType.UINT16:
			return new Uint16Array(buffer, byteOffset, count);
		default:
			throw new RangeError(`tensor ${name}: ${dataTypeName(dataType)} is not supported here`);
	}
}

/** IEEE 754 half precision from a float (round to nearest even), as stored in ONNX FLOAT16 tensors. */
export function float32ToFloat16(values: Float32Array): Uint16Array {
	const out = new Uint16Array(values.length);
	const f32 = new Float32Array(1);
	const u32 = new Uint32Array(f32.buffer);
	for (let i = 0; i < values.length; i++) {
		f32[0] = values[i] as number;
		const x = u32[0] as number;
		const sign = (x >>> 16) & 0x8000;
		const exponent = (x >>> 23) & 0xff;
		let mantissa = x & 0x7fffff;
		if (exponent === 0xff) {
			out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
			continue;
		}
		const e = exponent - 127 + 15;
		if (e >= 0x1f) {
			out[i] = sign | 0x7c00;
			continue;
		}
		if (e <= 0) {
			if (e < -10) {
				out[i] = sign;
				continue;
			}
			mantissa |= 0x800000;
			const shift = 14 - e;
			let half = mantissa >>> shift;
			const rest = mantissa & ((1 << shift) - 1);
			const halfway = 1 << (shift - 1);
			if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
			out[i] = sign | half;
			continue;
		}
		let half = (e << 10) | (mantissa >>> 13);
		const rest = mantissa & 0x1fff;
		if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
		out[i] = sign | half;
	}
	return out;
}

/** Floats from IEEE 754 half precision values. */
export function float16ToFloat32(values: Uint16Array): Float32Array {
	const out = new Float32Array(values.length);
	for (let i = 0; i < values.length; i++) {
		const h = values[i] as number;
		const sign = h & 0x8000 ? -1 : 1;
		const exponent = (h >>> 10) & 0x1f;
		const mantissa = h & 0x3ff;
		if (exponent === 0) out[i] = sign * mantissa * 2 ** -24;
		else if (exponent === 0x1f) out[i] = mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
		else out[i] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
	}
	return out;
}
