/**
 * The models the proxy serves: every model the gateway can price (the built-in table and
 * PRICING_OVERRIDES). A model it cannot price is never called, since its spend could not be budgeted.
 */
import { NotFoundError } from '../errors';
import { MODEL_PRICES, type ModelPrice, type PriceKind, type PriceTable } from '../pricing';

/** What `GET /openai/v1/models` lists for one model, in OpenAI's shape. */
export interface ModelObject {
  id: string;
  object: 'model';
  /** 0: the gateway does not know when a model was released. */
  created: number;
  owned_by: string;
}

/** Every priced model id, built-in first (sorted), then those only PRICING_OVERRIDES adds. */
export function servedModels(prices: PriceTable, overrides: Record<string, unknown>): ModelObject[] {
  const builtIn = Object.keys(MODEL_PRICES).sort();
  const added = Object.keys(overrides)
    .filter((id) => !(id in MODEL_PRICES))
    .sort();
  return [...builtIn, ...added]
    .filter((id) => prices.price(id))
    .map((id) => ({ id, object: 'model', created: 0, owned_by: id in MODEL_PRICES ? 'openai' : 'gateway' }));
}

/**
 * The price of `model` when the gateway serves it for an API of `kind` (chat and responses: text;
 * images: image; …). Dated snapshots of a priced model are served too.
 * @throws NotFoundError 404 `model_not_found` (`param: 'model'`), as OpenAI answers an unknown model.
 */
export function servedModel(prices: PriceTable, model: string, kind: PriceKind): ModelPrice {
  const price = prices.price(model);
  if (price?.kind === kind) return price;
  throw new NotFoundError({
    message: `The model '${model}' is not served by this gateway for this endpoint; GET /openai/v1/models lists the models it serves.`,
    code: 'model_not_found',
    param: 'model',
  });
}
