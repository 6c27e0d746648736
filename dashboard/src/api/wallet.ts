// Signing with a wallet on testnet and mainnet through @near-wallet-selector
// (MyNearWallet). Loaded only when the network is not `local`.

import { setupWalletSelector, type InjectedWallet, type WalletSelector } from '@near-wallet-selector/core';
import { setupMyNearWallet } from '@near-wallet-selector/my-near-wallet';
import { actionCreators } from '@near-js/transactions';

import type { TxSigner } from './chain';
import { errorText } from './coordinator';

let selector: Promise<WalletSelector> | null = null;

export function walletSelector(network: 'testnet' | 'mainnet'): Promise<WalletSelector> {
  selector ??= setupWalletSelector({ network, modules: [setupMyNearWallet()] });
  return selector;
}

export class WalletRefused extends Error {}

export class WalletSigner implements TxSigner {
  readonly kind = 'wallet' as const;
  constructor(
    private readonly selector: WalletSelector,
    readonly accountId: string,
  ) {}

  async call(contractId: string, method: string, args: object, gas: bigint, deposit: bigint): Promise<string> {
    const wallet = await this.selector.wallet();
    let outcome;
    try {
      outcome = await wallet.signAndSendTransaction({
        signerId: this.accountId,
        receiverId: contractId,
        actions: [actionCreators.functionCall(method, args, gas, deposit)],
      });
    } catch (e) {
      throw new WalletRefused(`The wallet did not sign ${method}: ${errorText(e)}`);
    }
    if (!outcome) throw new WalletRefused(`The wallet did not return a transaction for ${method}.`);
    return outcome.transaction_outcome.id;
  }
}

/** The signed-in account, if any. */
export async function walletAccount(network: 'testnet' | 'mainnet'): Promise<string | null> {
  const s = await walletSelector(network);
  const accounts = s.store.getState().accounts;
  return accounts[0]?.accountId ?? null;
}

export async function signIn(network: 'testnet' | 'mainnet', contractId: string): Promise<void> {
  const s = await walletSelector(network);
  const wallet = await s.wallet<InjectedWallet>('my-near-wallet');
  try {
    await wallet.signIn({ contractId });
  } catch (e) {
    throw new WalletRefused(`The wallet refused to sign in: ${errorText(e)}`);
  }
}

export async function signOut(network: 'testnet' | 'mainnet'): Promise<void> {
  const s = await walletSelector(network);
  await (await s.wallet()).signOut();
}
