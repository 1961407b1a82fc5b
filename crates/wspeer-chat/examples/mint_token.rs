//! How an application issues a chat token: a JWT signed (HS256) with the
//! secret the chat server reads with `--auth-secret FILE`.
//!
//! `cargo run -p wspeer-chat --example mint_token -- SECRET_FILE NAME [moderator]`
//! prints a token valid for an hour; give it to the client, which connects to
//! `ws://HOST:8000/?token=TOKEN` (the web page: `http://HOST:8000/?token=TOKEN`).

use jsonwebtoken::{EncodingKey, Header, encode, get_current_timestamp};
use wspeer_chat::auth::Claims;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (Some(secret_file), Some(name)) = (args.next(), args.next()) else {
        return Err("usage: mint_token SECRET_FILE NAME [moderator]".into());
    };
    let secret = std::fs::read_to_string(&secret_file).map_err(|e| e.to_string())?;
    let claims = Claims {
        sub: name,
        exp: get_current_timestamp() + 3600,
        moderator: args.next().as_deref() == Some("moderator"),
    };
    let key = EncodingKey::from_secret(secret.trim_end().as_bytes());
    let token = encode(&Header::default(), &claims, &key).map_err(|e| e.to_string())?;
    #[allow(clippy::print_stdout)] // the token is the program's output
    {
        println!("{token}");
    }
    Ok(())
}
