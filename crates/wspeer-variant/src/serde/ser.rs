use serde::ser::{self, Serialize};

use super::SerdeError;
use crate::Variant;

pub(super) struct VariantSerializer;

type R = Result<Variant, SerdeError>;

fn keyed(name: &str, value: Variant) -> Variant {
    Variant::Dictionary(vec![(Variant::String(name.to_owned()), value)])
}

impl ser::Serializer for VariantSerializer {
    type Ok = Variant;
    type Error = SerdeError;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Map;

    fn serialize_bool(self, v: bool) -> R {
        Ok(Variant::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> R {
        Ok(Variant::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> R {
        Ok(Variant::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> R {
        Ok(Variant::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> R {
        Ok(Variant::Int(v))
    }
    fn serialize_u8(self, v: u8) -> R {
        Ok(Variant::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> R {
        Ok(Variant::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> R {
        Ok(Variant::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> R {
        i64::try_from(v)
            .map(Variant::Int)
            .map_err(|_| SerdeError(format!("{v} does not fit Godot's 64-bit signed int")))
    }
    fn serialize_f32(self, v: f32) -> R {
        Ok(Variant::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> R {
        Ok(Variant::Float(v))
    }
    fn serialize_char(self, v: char) -> R {
        Ok(Variant::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(Variant::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        Ok(Variant::PackedByteArray(v.to_vec()))
    }
    fn serialize_none(self) -> R {
        Ok(Variant::Nil)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(Variant::Nil)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> R {
        Ok(Variant::Nil)
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> R {
        Ok(Variant::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> R {
        Ok(keyed(variant, value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, SerdeError> {
        Ok(Seq::new(None, len))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, SerdeError> {
        Ok(Seq::new(None, Some(len)))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq, SerdeError> {
        Ok(Seq::new(None, Some(len)))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq, SerdeError> {
        Ok(Seq::new(Some(variant), Some(len)))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map, SerdeError> {
        Ok(Map::new(None))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Map, SerdeError> {
        Ok(Map::new(None))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Map, SerdeError> {
        Ok(Map::new(Some(variant)))
    }
}

pub(super) struct Seq {
    variant: Option<&'static str>,
    items: Vec<Variant>,
}

impl Seq {
    fn new(variant: Option<&'static str>, len: Option<usize>) -> Self {
        Seq {
            variant,
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
        }
    }
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.items.push(value.serialize(VariantSerializer)?);
        Ok(())
    }
    fn done(self) -> R {
        let array = Variant::Array(self.items);
        Ok(match self.variant {
            Some(name) => keyed(name, array),
            None => array,
        })
    }
}

macro_rules! seq_impl {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for Seq {
            type Ok = Variant;
            type Error = SerdeError;
            fn $m<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
                self.push(value)
            }
            fn end(self) -> R {
                self.done()
            }
        }
    )*};
}

seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

pub(super) struct Map {
    variant: Option<&'static str>,
    entries: Vec<(Variant, Variant)>,
    key: Option<Variant>,
}

impl Map {
    fn new(variant: Option<&'static str>) -> Self {
        Map {
            variant,
            entries: Vec::new(),
            key: None,
        }
    }
    fn done(self) -> R {
        let dict = Variant::Dictionary(self.entries);
        Ok(match self.variant {
            Some(name) => keyed(name, dict),
            None => dict,
        })
    }
    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.entries.push((
            Variant::String(key.to_owned()),
            value.serialize(VariantSerializer)?,
        ));
        Ok(())
    }
}

impl ser::SerializeMap for Map {
    type Ok = Variant;
    type Error = SerdeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerdeError> {
        self.key = Some(key.serialize(VariantSerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| SerdeError("a map value without its key".into()))?;
        self.entries
            .push((key, value.serialize(VariantSerializer)?));
        Ok(())
    }
    fn end(self) -> R {
        self.done()
    }
}

impl ser::SerializeStruct for Map {
    type Ok = Variant;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.field(key, value)
    }
    fn end(self) -> R {
        self.done()
    }
}

impl ser::SerializeStructVariant for Map {
    type Ok = Variant;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.field(key, value)
    }
    fn end(self) -> R {
        self.done()
    }
}
