//! `shoots ping`: is the daemon there?

use std::time::Instant;

use clap::Args;

use super::block_on;
use crate::client::ConnectArgs;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct PingArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl PingArgs {
    pub fn run(self) -> Result<()> {
        block_on(async {
            let mut client = self.connect.connect().await?;
            let started = Instant::now();
            let reply = client.ping().await?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            println!("{reply} from {} in {ms:.1} ms", client.address);
            Ok(())
        })
    }
}
